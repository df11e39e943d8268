"""`make bench`: every measurement the project reports, one after the other."""

from bench import attestations_bench, log_bench, upload_bench

if __name__ == "__main__":
    upload_bench.run()
    print()
    attestations_bench.run()
    print()
    log_bench.run()

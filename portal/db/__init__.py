from portal.db.engine import atomic, bind_tables, close_engine, connect, create_engine, lock, open_engine

__all__ = ["atomic", "bind_tables", "close_engine", "connect", "create_engine", "lock", "open_engine"]

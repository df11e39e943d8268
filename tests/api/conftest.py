import pytest


@pytest.fixture(autouse=True)
async def _each_test_starts_empty(clean_database: None) -> None:
    """Every test here runs against the suite's database and leaves it empty."""

from portal.db.engine import atomic, bind_tables, close_engine, connect, create_engine, open_engine

__all__ = ["atomic", "bind_tables", "close_engine", "connect", "create_engine", "open_engine"]

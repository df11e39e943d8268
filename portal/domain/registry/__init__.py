"""The public registry: search, export, the change feed and statistics, from the ``registry_entry`` read model."""

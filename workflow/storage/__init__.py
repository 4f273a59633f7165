"""Storage: the engine and sessions (database.py), the tables (models/),
shared case lookups (repository.py), the loop reader and the migrations glue."""

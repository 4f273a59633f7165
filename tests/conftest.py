pytest_plugins = ["tests.support.pg_plugin", "tests.support.db_plugin"]

"""Alembic environment: runs on the engine `shared.infra.db.upgrade` passes in."""

from alembic import context

from shared.infra.models import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if engine.dialect.name == "postgresql":  # a migration may outlast a request's timeout
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        context.run_migrations()
    connection.commit()

"""The migrations build the schema the code declares: after `upgrade`, Alembic's
autogenerate finds nothing to change between the database and the tables (ours in
`storage.tables`, slack_sdk's that migration 0002 writes out), on both databases."""

from __future__ import annotations

import pprint
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.database import Database


def declared() -> MetaData:
    """Every table the running bot uses, as its code declares it."""
    metadata = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    # adapters.slack.oauth: slack_sdk's stores with their default table names
    installations = SQLAlchemyInstallationStore
    installations.build_installations_table(
        metadata, installations.default_installations_table_name
    )
    installations.build_bots_table(metadata, installations.default_bots_table_name)
    states = SQLAlchemyOAuthStateStore
    states.build_oauth_states_table(metadata, states.default_table_name)
    return metadata


def differences(connection: Any, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def schema_differences(db: Database, metadata: MetaData) -> list[Any]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(differences, metadata)


async def test_the_migrations_build_the_declared_tables(db: Database) -> None:
    found = await schema_differences(db, declared())
    assert not found, (
        "the migrations and the declared tables differ (a model changed without a migration, "
        "or a migration without its model); what autogenerate would change:\n"
        + pprint.pformat(found, width=100)
    )


async def test_a_column_missing_from_the_migrations_is_reported(db: Database) -> None:
    """The comparison sees a difference when there is one (so the test above can fail)."""
    from sqlalchemy import Column, String

    metadata = declared()
    metadata.tables["members"].append_column(Column("nickname", String(64)))
    found = await schema_differences(db, metadata)
    assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "members", "nickname")]

"""The review workflow 人工复核: users, review items, appeals, cross review, decisions, audit log.

Framework-free (SQLAlchemy only): the service, the CLI and settlement's entry point all use it.
"""

"""The user service's domain: users, who may do what, and what can go wrong.

Plain Python only: no FastAPI, SQLAlchemy or redis here, so these rules are tested without
fixtures and read without knowing the framework.
"""

"""Admin users: argon2id password hashes, and checks that take the same time either way."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from patron.errors import Conflict, Invalid, NotFound, Unauthorized
from patron.identity.normalise import IdentityError, normalise_email
from patron.storage.schema import users
from patron.storage.types import utcnow

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so timing does not reveal which emails exist.

    Made on first use: hashing takes ~0.3 s, which every CLI command paid at import.
    """
    return _hasher.hash("not a real password")


@dataclass(frozen=True, slots=True)
class User:
    """An admin user."""

    id: int
    email: str


def create_user(conn: Connection, email: str, password: str) -> User:
    """A new admin user; Conflict if the email is taken."""
    address = _email(email)
    _check_password(password)
    if conn.execute(select(users.c.id).where(users.c.email == address)).first():
        raise Conflict(f"a user with email {address!r} already exists", field="email")
    user_id = conn.execute(
        insert(users)
        .values(email=address, password_hash=_hasher.hash(password), created_at=utcnow())
        .returning(users.c.id)
    ).scalar_one()
    return User(user_id, address)


def authenticate(conn: Connection, email: str, password: str) -> User:
    """The user with these credentials; Unauthorized otherwise (same message either way)."""
    try:
        address = normalise_email(email)
    except IdentityError:
        address = ""
    row = conn.execute(select(users.c.id, users.c.password_hash).where(users.c.email == address)).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong email or password") from None
    if row is None:
        raise Unauthorized("wrong email or password")
    values: dict[str, object] = {"last_login_at": utcnow()}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(users).where(users.c.id == row.id).values(**values))
    return User(row.id, address)


def set_password(conn: Connection, email: str, password: str) -> User:
    """Replace a user's password."""
    address = _email(email)
    _check_password(password)
    row = conn.execute(select(users.c.id).where(users.c.email == address)).first()
    if row is None:
        raise NotFound(f"no user with email {address!r}", field="email")
    conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return User(row.id, address)


def count_users(conn: Connection) -> int:
    """How many admin users exist."""
    return conn.execute(select(func.count()).select_from(users)).scalar_one()


def first_user(conn: Connection) -> User | None:
    """The oldest user (the one `init` created), if any."""
    row = conn.execute(select(users.c.id, users.c.email).order_by(users.c.id).limit(1)).first()
    return User(row.id, row.email) if row else None


def _email(email: str) -> str:
    try:
        return normalise_email(email)
    except IdentityError as exc:
        raise Invalid(str(exc), field="email") from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")

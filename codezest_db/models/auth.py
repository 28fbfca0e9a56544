"""Rows of the ``auth`` schema."""

from ipaddress import IPv4Address, IPv6Address
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

from codezest_db.enums import Role

__all__ = [
    "EmailVerification",
    "OAuthAccount",
    "PasswordReset",
    "Session",
    "User",
    "UserCredentials",
    "UserProfile",
]


class User(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.users``, without the password hash."""

    id: UUID
    email: str
    name: str
    role: Role
    email_verified_at: AwareDatetime | None
    last_login_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class UserCredentials(BaseModel, frozen=True, extra="forbid"):
    """What sign-in needs from ``auth.users``; the only model with the hash."""

    id: UUID
    email: str
    password_hash: str | None
    role: Role


class UserProfile(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.user_profiles``."""

    id: UUID
    user_id: UUID
    bio: str | None
    avatar_url: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Session(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.sessions``."""

    id: UUID
    user_id: UUID
    token_hash: str
    user_agent: str | None
    ip_address: IPv4Address | IPv6Address | None
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class OAuthAccount(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.oauth_accounts``."""

    id: UUID
    user_id: UUID
    provider: str
    provider_account_id: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class PasswordReset(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.password_resets``."""

    id: UUID
    user_id: UUID
    token_hash: str
    expires_at: AwareDatetime
    used_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class EmailVerification(BaseModel, frozen=True, extra="forbid"):
    """A row of ``auth.email_verifications``."""

    id: UUID
    user_id: UUID
    email: str
    token_hash: str
    expires_at: AwareDatetime
    verified_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime

"""Request dependencies for the authenticated caller (the session is `fleet.core.requests`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.auth.security import API_TOKEN_PREFIX, decode_access_token
from fleet.core.access import Actor
from fleet.core.errors import Unauthorized
from fleet.core.requests import SessionDep

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Caller:
    user: User
    actor: Actor


def get_caller(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2)]
) -> Caller:
    """The user behind the bearer token: a signed access token, or a long-lived API token."""
    if not token:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    if token.startswith(API_TOKEN_PREFIX):
        user = auth.user_for_api_token(session, token)
    else:
        user = auth.user_for_access_token(session, *decode_access_token(token))
    request.state.username = user.username  # for the access log
    return Caller(user=user, actor=auth.actor_for(session, user))


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_actor(caller: CallerDep) -> Actor:
    return caller.actor


ActorDep = Annotated[Actor, Depends(get_actor)]

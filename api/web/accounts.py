"""A person's own password in the browser: "Set your password" (reached by the
one-time link of `casereview users invite`) and "Change your password" (signed in).

Both forms are proved against CSRF: the set-password form, which has no session yet,
by the pre-session cookie of the sign-in form (api/web/forms.py: its path /session
covers /session/password/...); the change form by its session's token. Setting or
changing a password ends every session of the user (workflow/access/passwords.py);
after a change this browser gets a new session at once, so only the others end.
A wrong current password counts towards the lockout like a failed sign-in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Now, Services, ServicesDep, client_host, client_of
from api.web import forms
from api.web.session import (
    SIGN_IN,
    SignInRequired,
    _current,
    locked_words,
    render,
    router,
    set_session_cookie,
)
from workflow.access import invites, passwords, sessions
from workflow.access.account_audit import Actor
from workflow.access.principal import Principal
from workflow.core.errors import InvalidFacts, NotAuthenticated
from workflow.storage.models import User

CHANGE = "/account/password"
_MAX = 1024  # a longer password is refused by the rules (passwords.MAX_LENGTH) anyway
Field = Annotated[str, Form(max_length=_MAX)]
Csrf = Annotated[str, Form(max_length=100)]


def _new_password_errors(password: str, confirm: str, username: str) -> dict[str, str]:
    """The new password's problems (field -> message), checked before anything is
    counted or changed."""
    if not password:
        return {"new_password": "Enter a new password"}
    try:
        passwords.check_rules(password, username)
    except InvalidFacts as refused:
        return {"new_password": refused.detail[:1].upper() + refused.detail[1:]}
    if confirm != password:
        return {"confirm_password": "Enter the same new password twice"}
    return {}


# --- "Set your password": the invite link ---


def _set_page(
    request: Request, services: Services, token: str, errors: dict[str, str], status: int
) -> HTMLResponse:
    csrf = forms.sign_in_token(request)
    context = {"token": token, "errors": errors, "valid": True, "csrf_token": csrf}
    page = render(request, "set_password.html", context, status)
    forms.keep_sign_in_token(page, csrf, request, services)
    return page


def _invalid_link(request: Request) -> HTMLResponse:
    """One page for an unknown, used or expired link (and a disabled user)."""
    return render(request, "set_password.html", {"valid": False, "errors": {}}, 404)


@router.get(invites.PATH + "{token}", response_class=HTMLResponse)
async def set_password_form(
    request: Request, services: ServicesDep, now: Now, token: str
) -> HTMLResponse:
    try:
        await services.read(lambda s: invites.user_of(s, token, now))
    except NotAuthenticated:
        return _invalid_link(request)
    return _set_page(request, services, token, {}, 200)


@router.post(invites.PATH + "{token}")
async def set_password(
    request: Request,
    services: ServicesDep,
    now: Now,
    token: str,
    new_password: Field = "",
    confirm_password: Field = "",
    csrf_token: Csrf = "",
) -> Response:
    """Use the link up and set the password; then the person signs in with it."""
    if not forms.same_origin(request) or not forms.proves_sign_in(request, csrf_token):
        return render(request, "refused.html", {"principal": None}, 403)
    try:
        _, user = await services.read(lambda s: invites.user_of(s, token, now))
    except NotAuthenticated:
        return _invalid_link(request)
    errors = _new_password_errors(new_password, confirm_password, user.username)
    if errors:
        return _set_page(request, services, token, errors, 400)
    by = Actor(user.username, client_of(request))  # the person, through their link
    try:
        await services.write(lambda s: invites.redeem(s, token, new_password, now=now, by=by))
    except NotAuthenticated:  # used meanwhile in another tab
        return _invalid_link(request)
    response = RedirectResponse(f"{SIGN_IN}?password=set", status_code=303)
    forms.forget_sign_in_token(response, request, services)
    return response


# --- "Change your password": signed in ---


def _change_page(
    request: Request, principal: Principal, errors: dict[str, str], status: int
) -> HTMLResponse:
    changed = request.query_params.get("changed") == "1" and not errors
    context = {"principal": principal, "errors": errors, "changed": changed}
    return render(request, "change_password.html", context, status)


@router.get(CHANGE, response_class=HTMLResponse)
async def change_password_form(request: Request, services: ServicesDep, now: Now) -> HTMLResponse:
    current = await _current(request, services, now, activity=True)
    if current is None:
        raise SignInRequired(request.url.path)
    return _change_page(request, current[1], {}, 200)


@router.post(CHANGE)
async def change_password(
    request: Request,
    services: ServicesDep,
    now: Now,
    current_password: Field = "",
    new_password: Field = "",
    confirm_password: Field = "",
    csrf_token: Csrf = "",
) -> Response:
    """Check the current password (a wrong one counts towards the lockout), set the new
    one, end every session of the user and start a new one for this browser."""
    current = await _current(request, services, now, activity=True)
    if current is None:
        raise SignInRequired(request.url.path)
    active, principal = current
    if not forms.same_origin(request) or not sessions.proves_form(active, csrf_token):
        return render(request, "refused.html", {"principal": principal}, 403)
    errors = {} if current_password else {"current_password": "Enter your current password"}
    errors |= _new_password_errors(new_password, confirm_password, principal.username)
    if errors:
        return _change_page(request, principal, errors, 400)
    by = Actor.of(principal, client_of(request))

    def run(s: Session) -> tuple[passwords.SignInOutcome, sessions.IssuedSession | None]:
        checked = passwords.sign_in(
            s,
            principal.username,
            current_password,
            address=client_host(request),
            now=now,
            policy=services.lockout,
            by=by,
        )
        if checked.principal is None or checked.principal.user_id != principal.user_id:
            return checked, None
        user = s.get(User, principal.user_id)
        assert user is not None  # the session's user, just checked
        passwords.set_password(s, user, new_password, now=now, by=by)
        return checked, sessions.start(s, principal.user_id, now, method=passwords.METHOD)

    checked, issued = await services.write(run)
    if issued is None:
        wrong = (
            locked_words(checked.locked_until, now)
            if checked.locked_until
            else "Your current password is not right: enter it again"
        )
        return _change_page(request, principal, {"current_password": wrong}, 400)
    response = RedirectResponse(f"{CHANGE}?changed=1", status_code=303)
    set_session_cookie(response, request, services, issued.secret)
    return response

"""The web dashboard's session (a server-side session named by an opaque cookie) and
rendering.

A person signs in with their username and password (workflow/access/passwords.py:
one answer for an unknown user and a wrong password, lockout per account and per
address kept in the database) and gets a session (workflow/access/sessions.py): the
cookie holds only the session's random id. API tokens are for the API only; the
browser no longer takes one. Every page reads the session row, so an
ended, idle or too old session, or a disabled user, signs the browser out at once
in every worker process; revoking a role or a token ends the user's sessions.
The cookie is HttpOnly, SameSite=Strict (no cross-site request carries it) and
Secure over HTTPS (api/web/forms.py); every state-changing form is proved by a
CSRF token. Every HTML response carries a strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from api.deps import Now, Services, ServicesDep, client_host, client_of
from api.observability import principal_id_var
from api.schemas.cases import CaseSummary
from api.schemas.deadlines import DeadlineOut
from api.web import forms
from workflow.access import accounts, passwords, sessions
from workflow.access.account_audit import Actor
from workflow.access.principal import Principal
from workflow.context import LOCAL_ZONE, Context
from workflow.core.errors import NotAuthenticated, RateLimited
from workflow.core.inputs import neutralise
from workflow.core.words import word

COOKIE = "casereview_session"
SIGN_IN = "/session"
# Headers of every HTML response: no inline script or style, nothing from elsewhere.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
}
_NEXT = re.compile(r"^/(?:cases/[0-9a-fA-F-]{36}|rulebooks(?:/[a-z0-9-]{1,64})?)?$")
_MAX_USERNAME, _MAX_PASSWORD = 128, 1024  # longer ones are cut (passwords.MAX_LENGTH)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Forgets a session cookie that no longer names a valid session (sent with the redirect).
_FORGET = f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


class SignInRequired(HTTPException):
    """Answered as 303 See Other to the sign-in page (the browser follows it)."""

    def __init__(self, path: str) -> None:
        target = SIGN_IN + (f"?next={quote(path, safe='/')}" if _NEXT.match(path) else "")
        super().__init__(303, "sign in first", headers={"Location": target, "Set-Cookie": _FORGET})


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a page of this dashboard (no open redirect)."""
    return value if value and _NEXT.match(value) else "/"


async def _current(
    request: Request, services: Services, now: datetime, *, activity: bool
) -> tuple[sessions.ActiveSession, Principal] | None:
    """The browser's valid session and its user's Principal (roles as they are now), or
    None. `activity`: the request counts against the idle timeout (a page opened, not
    the case page's background checks). A cookie naming no valid session counts as a
    failed authentication of the address, like a refused token."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    policy = services.sessions

    def resume(s: Session) -> tuple[sessions.ActiveSession, Principal]:
        active = sessions.resume(s, secret, now, policy)
        return active, accounts.principal_for(s, active.user)

    try:
        active, principal = await services.read(resume)
        if activity and active.stale:
            await services.write(lambda s: sessions.touch(s, active.id, now, policy))
    except NotAuthenticated:
        services.limits.failed_authentication(client_host(request), now)
        return None
    request.state.web_session = active  # its CSRF token goes into the page's forms
    principal_id_var.set(str(principal.user_id))
    services.limits.request(principal.user_id, now)
    return active, principal


def _context(request: Request, services: ServicesDep, principal: Principal, now: Now) -> Context:
    return Context(
        services.rulebooks,
        principal,
        now,
        client_of(request),
        services.calendars,
        services.rag_amber_working_days,
    )


async def page_context(request: Request, services: ServicesDep, now: Now) -> Context:
    """The signed-in caller of a page, or a redirect to the sign-in page."""
    current = await _current(request, services, now, activity=True)
    if current is None:
        raise SignInRequired(request.url.path)
    return _context(request, services, current[1], now)


async def json_context(request: Request, services: ServicesDep, now: Now) -> Context:
    """The signed-in caller of a script's request: 401 problem+json, not a redirect."""
    current = await _current(request, services, now, activity=False)
    if current is None:
        raise NotAuthenticated("the session has ended; sign in again")
    return _context(request, services, current[1], now)


PageCtx = Annotated[Context, Depends(page_context)]
JsonCtx = Annotated[Context, Depends(json_context)]


# --- rendering: formatting only; every decision comes from the services ---


def label(name: str | None) -> str:
    """A code in words (workflow/core/words.py): `notification_due` -> `Notification due`."""
    return word(name)


def when(value: date | datetime | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_ZONE).strftime("%a %-d %b %Y, %H:%M")
    return value.strftime("%a %-d %b %Y")


def describe(value: Any) -> str:
    """A stored value as short text (records and timeline payloads)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return when(value)
    if isinstance(value, str) and _ISO_DATE.match(value):  # a date in a stored record
        return when(date.fromisoformat(value))
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {describe(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(describe(v) for v in value) or "none"
    return str(value)


def rating(d: DeadlineOut) -> str:
    """The words that go with a red/amber/green rating (never colour alone)."""
    days = d.working_days_late or 0
    if d.kind == "expectation":  # a local date where the guidance gives no number
        if d.state == "met":
            return "Met by the expected date" if d.on_time else "Met after the expected date"
        return f"Expected by {when(d.due_date)}" if d.due_date else label(d.state)
    if d.kind == "earliest":  # a date before which something should not happen
        if d.state == "met":
            return "Met on time" if d.on_time else "Met too early"
        return f"Not before {when(d.due_date)}" if d.due_date else label(d.state)
    if d.state == "overdue":
        return f"Overdue by {_days(days)}"
    if d.state == "pending" and d.working_days_remaining is not None:
        n = d.working_days_remaining
        return "Due today" if n == 0 else f"Due in {_days(n)}"
    if d.state == "met":
        return "Met on time" if d.on_time else f"Met {_days(days)} late"
    return label(d.state)


def _days(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"


def case_name(case: CaseSummary) -> str:
    return case.local_reference or case.title or f"Case {str(case.id)[:8]}"


def _shown(value: Any) -> Any:
    """Every `{{ }}` output: text stored before the character rule (workflow/core/inputs.py)
    shows a refused character as U+FFFD. Markup (already escaped HTML) is left as it is."""
    return neutralise(value, multiline=True) if type(value) is str else value


templates.env.finalize = _shown
templates.env.filters.update(label=label, when=when, describe=describe)
templates.env.globals.update(rating=rating, case_name=case_name)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """An HTML page (or fragment) with the HTML security headers; its forms get the
    session's CSRF token (`csrf_token`) when the request has a session."""
    active = getattr(request.state, "web_session", None)
    context = {"csrf_token": active.csrf_token if active else "", **context}
    return templates.TemplateResponse(
        request, name, context, status_code=status, headers=HTML_HEADERS
    )


def _sign_in_page(
    request: Request,
    services: Services,
    next_path: str,
    errors: dict[str, str],
    status: int,
    username: str = "",
) -> HTMLResponse:
    """The sign-in form, with its CSRF token in the page and in the pre-session cookie.
    `errors`: field -> message (the summary links each to its field); the typed username
    is kept, the password never sent back."""
    token = forms.sign_in_token(request)
    context = {
        "next": next_path,
        "errors": errors,
        "username": username,
        "password_set": request.query_params.get("password") == "set",
        "csrf_token": token,
        "idle_minutes": int(services.sessions.idle.total_seconds() // 60),
    }
    page = render(request, "signin.html", context, status)
    forms.keep_sign_in_token(page, token, request, services)
    return page


def locked_words(until: datetime, now: datetime) -> str:
    """Why a sign-in is refused while locked, and until when, in words."""
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    at = until.astimezone(LOCAL_ZONE).strftime("%H:%M")
    return (
        "There have been too many failed sign-ins to this account or from your network. "
        f"Try again after {at} (in {minutes} minute{'' if minutes == 1 else 's'})"
    )


def wrong_credentials(request: Request, services: Services, now: datetime) -> None:
    """Count a refused password against the address in this process's rate limit too
    (as a refused API token is); RateLimited past it."""
    services.limits.failed_authentication(client_host(request), now)


def set_session_cookie(
    response: Response, request: Request, services: Services, secret: str
) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=forms.secure(request, services),
        path="/",
    )


@router.get(SIGN_IN, response_class=HTMLResponse)
async def sign_in_form(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> HTMLResponse:
    return _sign_in_page(request, services, safe_next(next_path), {}, 200)


@router.post(SIGN_IN)
async def sign_in(
    request: Request,
    services: ServicesDep,
    now: Now,
    username: Annotated[str, Form(max_length=_MAX_USERNAME)] = "",
    password: Annotated[str, Form(max_length=_MAX_PASSWORD)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=200)] = "/",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the username and password and start a session (a new id: the browser's
    previous session ends) in one transaction; then go where the user was going. A
    refusal is committed too: its failure counts towards the lockout."""
    target, name = safe_next(next_path), neutralise(username.strip(), multiline=False)
    if not forms.same_origin(request) or not forms.proves_sign_in(request, csrf_token):
        error = "Sign in from this site's own sign-in page (this one had expired: try again)"
        return _sign_in_page(request, services, target, {"username": error}, 403, name)
    errors = {}
    if not name:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
    if errors:
        return _sign_in_page(request, services, target, errors, 400, name)
    previous, by = request.cookies.get(COOKIE), Actor("web sign-in", client_of(request))

    def run(s: Session) -> tuple[passwords.SignInOutcome, sessions.IssuedSession | None]:
        outcome = passwords.sign_in(
            s,
            name,
            password,
            address=client_host(request),
            now=now,
            policy=services.lockout,
            by=by,
        )
        if outcome.principal is None:
            return outcome, None
        method = passwords.METHOD
        issued = sessions.start(s, outcome.principal.user_id, now, method=method, replaces=previous)
        return outcome, issued

    outcome, issued = await services.write(run)
    if outcome.locked_until is not None:
        error = locked_words(outcome.locked_until, now)
        page = _sign_in_page(request, services, target, {"username": error}, 429, name)
        page.headers["Retry-After"] = str(max(1, int((outcome.locked_until - now).total_seconds())))
        return page
    if outcome.principal is None or issued is None:
        try:
            wrong_credentials(request, services, now)
        except RateLimited as limited:
            error = limited.detail[:1].upper() + limited.detail[1:]  # names the limit
            page = _sign_in_page(request, services, target, {"username": error}, 429, name)
            page.headers["Retry-After"] = str(limited.retry_after_seconds)
            return page
        error = "Enter a correct username and password"
        return _sign_in_page(request, services, target, {"username": error}, 400, name)
    principal_id_var.set(str(outcome.principal.user_id))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, services, issued.secret)
    forms.forget_sign_in_token(response, request, services)
    return response


@router.post(SIGN_IN + "/end")
async def sign_out(
    request: Request,
    services: ServicesDep,
    now: Now,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """End the session on the server and forget its cookie (the user's API tokens stay
    valid for the API). Without a valid session there is
    nothing to end: the cookie is forgotten."""
    current = await _current(request, services, now, activity=False)
    if not forms.same_origin(request) or (
        current is not None and not sessions.proves_form(current[0], csrf_token)
    ):
        return render(request, "refused.html", {"principal": current[1] if current else None}, 403)
    secret = request.cookies.get(COOKIE, "")
    if current is not None:
        await services.write(lambda s: sessions.end(s, secret, now))
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=forms.secure(request, services)
    )
    return response

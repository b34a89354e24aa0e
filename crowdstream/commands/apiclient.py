"""The client of the cscli-style commands that go through the LAPI's HTTP API (decisions,
alerts, lapi): the machine credentials file (CrowdSec's ``local_api_credentials.yaml``:
``url``, ``login``, ``password``), a login for a token, then JSON requests. Any failure is
one :class:`ApiError` line: the URL or the HTTP status and the API's message."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from crowdstream.config import Config

#: what the commands call themselves in the User-Agent
USER_AGENT = "crowdstream-cli"
TIMEOUT = 30.0


class ApiError(Exception):
    """A refused or failed API call; ``str(exc)`` is the one-line reason."""


def read_credentials(path: Path) -> dict[str, str]:
    """``url``, ``login`` and ``password`` of a credentials file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ApiError(f"cannot read the credentials file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ApiError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ApiError(f"{path}: expected url, login and password")
    for key in ("url", "login", "password"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ApiError(f"{path}: {key}: required")
    return {key: data[key] for key in ("url", "login", "password")}


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return response.text.strip()[:200]


class LapiClient:
    """An HTTP session with the LAPI at ``url``; :meth:`login` before machine calls."""

    def __init__(self, url: str, *, verify: bool | str = True) -> None:
        self.url = url.rstrip("/") + "/"
        self._http = httpx.Client(base_url=self.url, timeout=TIMEOUT, verify=verify,
                                  headers={"User-Agent": USER_AGENT})

    @classmethod
    def from_config(cls, config: Config) -> tuple[LapiClient, dict[str, str]]:
        """The client of the credentials file ``api.client.credentials_path``, and those
        credentials."""
        path = config.api.client.credentials_path
        if path is None:
            raise ApiError("no api.client.credentials_path in the config")
        credentials = read_credentials(path)
        return cls(credentials["url"], verify=not config.api.client.insecure_skip_verify), \
            credentials

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LapiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: Any = None, body: Any = None,
                expect: tuple[int, ...] = (200, 201)) -> Any:
        """The JSON answer of a call (None for an empty body); ApiError otherwise."""
        try:
            response = self._http.request(method, path.lstrip("/"), params=params, json=body)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach the LAPI at {self.url}: {exc}") from None
        if response.status_code not in expect:
            raise ApiError(f"{method} /{path.lstrip('/')}: HTTP {response.status_code}: "
                           f"{_message(response)}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(f"{method} /{path.lstrip('/')}: the answer is not JSON") from None

    def login(self, login: str, password: str) -> None:
        """Log in as a machine; later calls carry its token."""
        answer = self.request("POST", "v1/watchers/login",
                              body={"machine_id": login, "password": password, "scenarios": []})
        if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
            raise ApiError("POST /v1/watchers/login: no token in the answer")
        self._http.headers["Authorization"] = f"Bearer {answer['token']}"


def logged_in(config: Config) -> LapiClient:
    """A client logged in with the config's credentials file."""
    client, credentials = LapiClient.from_config(config)
    try:
        client.login(credentials["login"], credentials["password"])
    except ApiError:
        client.close()
        raise
    return client

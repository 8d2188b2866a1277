"""IAM Identity Center: the portal (sso: GetRoleCredentials, ListAccounts, ListAccountRoles,
Logout) and SSO OIDC (RegisterClient, StartDeviceAuthorization, CreateToken), REST-JSON with
bearer-token (portal) or client-secret (OIDC) auth, no SigV4, as AWS serves them.

Seed: "sso": {"user": "operator", "token_ttl_s": 28800, "role_ttl_s": 3600,
              "assignments": [{"account": "111111111111", "role": "CwexportOperator"}]}
Device authorizations are approved at once (there is no browser), so `aws sso login
--no-browser` completes against the fake.
"""
import hashlib
import json
import secrets
import time

from .proto import ApiError, Resp

PORTAL_PATHS = ("/federation/credentials", "/assignment/accounts", "/assignment/roles", "/logout")
OIDC_PATHS = ("/token", "/client/register", "/device_authorization")
PORTAL_OPS = {"/federation/credentials": "GetRoleCredentials", "/assignment/accounts": "ListAccounts",
              "/assignment/roles": "ListAccountRoles", "/logout": "Logout"}
OIDC_OPS = {"/token": "CreateToken", "/client/register": "RegisterClient",
            "/device_authorization": "StartDeviceAuthorization"}
REST_JSON_CT = "application/json"


def route(path, headers, query_pairs):
    """(service, op) for an unsigned request to an IAM Identity Center path, else None."""
    if headers.get("Authorization") or any(k == "X-Amz-Signature" for k, _ in query_pairs):
        return None
    if path in PORTAL_OPS:
        return "sso", PORTAL_OPS[path]
    if path in OIDC_OPS:
        return "sso-oidc", OIDC_OPS[path]
    return None


class SSOError(ApiError):
    """A REST-JSON error: x-amzn-ErrorType names it; OIDC bodies carry error/error_description."""

    def __init__(self, code, message, status, oauth=None):
        super().__init__(code, message, status)
        self.oauth = oauth


def error_resp(e):
    if isinstance(e, SSOError) and e.oauth:
        body = {"error": e.oauth, "error_description": e.message}
    else:
        body = {"message": e.message}
    return Resp(e.status, json.dumps(body), REST_JSON_CT, [("x-amzn-ErrorType", e.code)], code=e.code)


def _now_ms():
    return int(time.time() * 1000)


def _ok(obj):
    return Resp(200, json.dumps(obj), REST_JSON_CT)


class SSOState:
    def __init__(self, spec):
        spec = spec or {}
        self.user = spec.get("user", "operator")
        self.token_ttl_s = float(spec.get("token_ttl_s", 8 * 3600))
        self.role_ttl_s = int(spec.get("role_ttl_s", 3600))
        self.assignments = [(str(a["account"]), a["role"]) for a in spec.get("assignments", [])]
        self.tokens = {}     # access token -> {"expires": ms, "start_url"}
        self.clients = {}    # client id -> {"secret", "expires": ms}
        self.refresh = {}    # refresh token -> {"client_id", "start_url"}
        self.devices = {}    # device code -> {"client_id", "start_url"}

    # ---------------------------------------------------------------- issuing
    def register(self, name="fakeaws", ttl_s=90 * 86400):
        cid = "fakeclient-" + secrets.token_hex(8)
        sec = "fakeclientsecret-" + secrets.token_hex(24)
        exp = _now_ms() + int(ttl_s * 1000)
        self.clients[cid] = {"secret": sec, "expires": exp, "name": name}
        return cid, sec, exp

    def issue(self, client_id, start_url, ttl_s=None):
        tok = "fakessoaccesstoken-" + secrets.token_hex(24)
        ttl = self.token_ttl_s if ttl_s is None else float(ttl_s)
        self.tokens[tok] = {"expires": _now_ms() + int(ttl * 1000), "start_url": start_url}
        rt = None
        if client_id:
            rt = "fakessorefreshtoken-" + secrets.token_hex(24)
            self.refresh[rt] = {"client_id": client_id, "start_url": start_url}
        return tok, rt, ttl

    def login(self, start_url, region, session_name=None, ttl_s=None, registration_ttl_s=90 * 86400,
              refresh=True):
        """The cache document `aws sso login` would write."""
        cid, sec, reg_exp = self.register(ttl_s=registration_ttl_s)
        tok, rt, ttl = self.issue(cid if refresh else None, start_url, ttl_s)
        iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
        doc = {"startUrl": start_url, "region": region, "accessToken": tok,
               "expiresAt": iso(_now_ms() + int(ttl * 1000))}
        if session_name is not None:
            doc.update({"clientId": cid, "clientSecret": sec, "registrationExpiresAt": iso(reg_exp)})
            if rt:
                doc["refreshToken"] = rt
        return doc

    # ------------------------------------------------------------------- auth
    def bearer(self, headers):
        tok = headers.get("x-amz-sso_bearer_token") or ""
        t = self.tokens.get(tok)
        if not tok or t is None or t["expires"] <= _now_ms():
            raise SSOError("UnauthorizedException", "Session token not found or invalid", 401)
        return tok

    def client(self, body):
        c = self.clients.get(body.get("clientId") or "")
        if c is None or c["secret"] != body.get("clientSecret"):
            raise SSOError("InvalidClientException", "Invalid client provided", 401, "invalid_client")
        if c["expires"] <= _now_ms():
            raise SSOError("InvalidClientException", "Client registration has expired", 401, "invalid_client")
        return body["clientId"]


def handle(world, op, method, query, headers, body):
    st = world.sso
    if op in ("GetRoleCredentials", "ListAccounts", "ListAccountRoles"):
        if method != "GET":
            raise SSOError("InvalidRequestException", "Unsupported method", 400)
        st.bearer(headers)
        if op == "ListAccounts":
            accts = sorted({a for a, _ in st.assignments})
            return _ok({"accountList": [{"accountId": a, "accountName": "account-" + a,
                                         "emailAddress": "aws+%s@example.com" % a} for a in accts]})
        acct = query.get("account_id", "")
        if op == "ListAccountRoles":
            return _ok({"roleList": [{"roleName": r, "accountId": a} for a, r in st.assignments if a == acct]})
        role = query.get("role_name", "")
        if not acct or not role:
            raise SSOError("InvalidRequestException", "account_id and role_name are required", 400)
        if (acct, role) not in st.assignments:
            raise SSOError("ForbiddenException", "No access", 403)
        h = hashlib.sha1(("%s/%s" % (acct, role)).encode()).hexdigest()[:16]
        arn = "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_%s/%s" % (acct, role, h, st.user)
        role_arn = "arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_%s_%s" % (acct, role, h)
        c = world.issue_credentials(acct, arn, "AROA%s:%s" % (h.upper(), st.user), st.role_ttl_s, role_arn)
        return _ok({"roleCredentials": {"accessKeyId": c.access_key, "secretAccessKey": c.secret,
                                        "sessionToken": c.token, "expiration": c.expires}})
    if op == "Logout":
        tok = st.bearer(headers)
        st.tokens.pop(tok, None)
        return Resp(200, b"", None)
    # OIDC: JSON bodies
    try:
        b = json.loads(body.decode("utf-8")) if body else {}
        if not isinstance(b, dict):
            raise ValueError
    except ValueError:
        raise SSOError("InvalidRequestException", "Invalid request", 400, "invalid_request")
    if op == "RegisterClient":
        if not b.get("clientName") or b.get("clientType") != "public":
            raise SSOError("InvalidRequestException", "clientName and clientType public are required", 400,
                           "invalid_request")
        cid, sec, exp = st.register(b["clientName"])
        return _ok({"clientId": cid, "clientSecret": sec, "clientIdIssuedAt": _now_ms() // 1000,
                    "clientSecretExpiresAt": exp // 1000})
    if op == "StartDeviceAuthorization":
        cid = st.client(b)
        code = "fakedevicecode-" + secrets.token_hex(16)
        st.devices[code] = {"client_id": cid, "start_url": b.get("startUrl", "")}
        user_code = secrets.token_hex(4).upper()
        uri = "https://device.sso.fake.example/"
        return _ok({"deviceCode": code, "userCode": user_code, "verificationUri": uri,
                    "verificationUriComplete": uri + "?user_code=" + user_code, "expiresIn": 600, "interval": 1})
    if op == "CreateToken":
        cid = st.client(b)
        grant = b.get("grantType")
        if grant == "refresh_token":
            r = st.refresh.pop(b.get("refreshToken") or "", None)
            if r is None or r["client_id"] != cid:
                raise SSOError("InvalidGrantException", "Invalid refresh token provided", 400, "invalid_grant")
            start_url = r["start_url"]
        elif grant == "urn:ietf:params:oauth:grant-type:device_code":
            d = st.devices.pop(b.get("deviceCode") or "", None)
            if d is None or d["client_id"] != cid:
                raise SSOError("InvalidGrantException", "Invalid device code provided", 400, "invalid_grant")
            start_url = d["start_url"]
        else:
            raise SSOError("UnsupportedGrantTypeException", "Unsupported grant type", 400,
                           "unsupported_grant_type")
        tok, rt, ttl = st.issue(cid, start_url)
        out = {"accessToken": tok, "tokenType": "Bearer", "expiresIn": int(ttl)}
        if rt:
            out["refreshToken"] = rt
        return _ok(out)
    raise SSOError("InvalidRequestException", "Unknown operation", 400)

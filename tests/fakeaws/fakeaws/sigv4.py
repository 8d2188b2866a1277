"""SigV4 verification with botocore's own signers.

The signature is recomputed from what was received (method, raw path, query,
exactly the headers listed in SignedHeaders, body) with the secret looked up from
the access key, using botocore.auth.SigV4Auth / S3SigV4Auth / SigV4QueryAuth /
S3SigV4QueryAuth, and compared with what the client sent."""
import calendar
import email.utils
import hashlib
import hmac
import re
import time
from urllib.parse import unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AuthError(Exception):
    """kind: malformed | unknown_key | invalid_token | expired_token | skew |
    signature | presign_expired | missing | content_sha256 | unsupported_payload"""

    def __init__(self, kind, message="", **extra):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra


class AuthInfo:
    def __init__(self):
        self.form = None  # "header" | "query" | None
        self.access_key = None
        self.scope_date = None
        self.region = None
        self.service = None
        self.signed_headers = []
        self.signature = None
        self.amz_date = None
        self.token = None
        self.expires = None


_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def parse_query_pairs(raw_query):
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            k, _, v = part.partition("=")
            pairs.append((unquote(k), unquote(v)))
    return pairs


def _parse_scope(cred):
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthError("malformed", "Credential should be scoped to a valid region.")
    return parts


def parse_auth(headers, query_pairs):
    """Return AuthInfo (form None when the request carries no SigV4 auth)."""
    info = AuthInfo()
    auth = headers.get("Authorization")
    q = dict(query_pairs)
    if auth:
        m = _AUTH_RE.match(auth.strip())
        if not m:
            if auth.startswith("AWS "):
                raise AuthError("malformed", "Signature Version 2 is not supported; use AWS4-HMAC-SHA256.")
            raise AuthError("malformed", "Authorization header requires existence of either a "
                            "'X-Amz-Date' or a 'Date' header. Authorization=%s" % auth.split(" ")[0])
        fields = {}
        for item in m.group(1).split(","):
            k, _, v = item.strip().partition("=")
            fields[k.strip()] = v.strip()
        for need in ("Credential", "SignedHeaders", "Signature"):
            if need not in fields:
                raise AuthError("malformed", "Authorization header requires '%s' parameter. "
                                "Authorization=%s" % (need, auth))
        parts = _parse_scope(fields["Credential"])
        info.form = "header"
        info.access_key, info.scope_date, info.region, info.service = parts[:4]
        info.signed_headers = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
        info.signature = fields["Signature"]
        info.amz_date = headers.get("X-Amz-Date")
        if not info.amz_date and headers.get("Date"):
            try:
                t = email.utils.parsedate_tz(headers.get("Date"))
                info.amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(email.utils.mktime_tz(t)))
            except Exception:
                info.amz_date = None
        if not info.amz_date:
            raise AuthError("malformed", "Authorization header requires existence of either a "
                            "'X-Amz-Date' or a 'Date' header.")
        info.token = headers.get("X-Amz-Security-Token")
        return info
    if q.get("X-Amz-Algorithm"):
        if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise AuthError("malformed", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        for need in ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"):
            if need not in q:
                raise AuthError("malformed", "Query-string authentication version 4 requires the "
                                "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                                "X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        parts = _parse_scope(q["X-Amz-Credential"])
        info.form = "query"
        info.access_key, info.scope_date, info.region, info.service = parts[:4]
        info.signed_headers = [h.strip().lower() for h in q["X-Amz-SignedHeaders"].split(";") if h.strip()]
        info.signature = q["X-Amz-Signature"]
        info.amz_date = q["X-Amz-Date"]
        info.token = q.get("X-Amz-Security-Token")
        try:
            info.expires = int(q.get("X-Amz-Expires", "3600"))
        except ValueError:
            raise AuthError("malformed", "X-Amz-Expires should be a number")
        return info
    return info


def amz_date_epoch(amz_date):
    try:
        return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except (ValueError, TypeError):
        raise AuthError("malformed", "Invalid X-Amz-Date %r; expected YYYYMMDDTHHMMSSZ" % (amz_date,))


def _make_verifier(base):
    class _Verifier(base):
        def __init__(self, credentials, service, region, signed, received, qpairs):
            super().__init__(credentials, service, region)
            self._signed = signed
            self._received = received
            self._qpairs = qpairs

        def headers_to_sign(self, request):
            hm = HTTPHeaders()
            for name in self._signed:
                for v in self._received.get_all(name) or []:
                    hm[name] = v
            return hm

        def canonical_query_string(self, request):
            return self._canonical_query_string_params(self._qpairs)

    return _Verifier


_V = {cls: _make_verifier(cls) for cls in (SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth)}


def compute(info, secret, token, method, scheme, raw_path, query_pairs, received_headers, body):
    """Recompute (signature, canonical_request, string_to_sign) for a received request."""
    is_s3 = info.service == "s3"
    if info.form == "query":
        base = S3SigV4QueryAuth if is_s3 else SigV4QueryAuth
        qpairs = [(k, v) for k, v in query_pairs if k != "X-Amz-Signature"]
    else:
        base = S3SigV4Auth if is_s3 else SigV4Auth
        qpairs = list(query_pairs)
    creds = Credentials(info.access_key, secret, token)
    signer = _V[base](creds, info.service, info.region, info.signed_headers, received_headers, qpairs)
    host = received_headers.get("Host", "localhost")
    req_headers = HTTPHeaders()
    for k, v in received_headers.items():
        if not is_s3 and k.lower() == "x-amz-content-sha256":
            continue
        req_headers[k] = v
    req = AWSRequest(method=method, url="%s://%s%s" % (scheme, host, raw_path), data=body)
    req.headers = req_headers
    req.context["timestamp"] = info.amz_date
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    sig = signer.signature(sts, req)
    return sig, canonical, sts


def verify(info, secret, token, method, scheme, raw_path, query_pairs, received_headers, body,
           now=None, max_skew=900):
    """Raise AuthError unless the request's signature and date are right."""
    now = time.time() if now is None else now
    t = amz_date_epoch(info.amz_date)
    if info.scope_date != info.amz_date[:8]:
        raise AuthError("malformed", "Date in Credential scope does not match YYYYMMDD from "
                        "ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'."
                        % (info.scope_date, info.amz_date[:8], info.amz_date))
    if info.form == "query":
        if t > now + max_skew:
            raise AuthError("skew", "Request is not yet valid", request_time=t, server_time=now)
        if now > t + (info.expires or 0):
            raise AuthError("presign_expired", "Request has expired", request_time=t, server_time=now,
                            expires=info.expires)
    elif abs(now - t) > max_skew:
        raise AuthError("skew", "skew", request_time=t, server_time=now)
    if "host" not in info.signed_headers:
        raise AuthError("signature", "'Host' must be a signed header",
                        canonical="", string_to_sign="")
    if info.service == "s3" and info.form == "header":
        declared = received_headers.get("X-Amz-Content-SHA256")
        if declared is None:
            raise AuthError("missing_sha256", "Missing required header for this request: x-amz-content-sha256")
        if declared.startswith("STREAMING-"):
            raise AuthError("unsupported_payload", "Chunked (streaming) payload signing is not "
                            "supported by this fake: %s" % declared)
    sig, canonical, sts = compute(info, secret, token, method, scheme, raw_path, query_pairs,
                                  received_headers, body)
    if not hmac.compare_digest(sig, info.signature or ""):
        raise AuthError("signature", "signature mismatch", canonical=canonical, string_to_sign=sts)
    if info.service == "s3" and info.form == "header":
        declared = received_headers.get("X-Amz-Content-SHA256")
        if declared != "UNSIGNED-PAYLOAD":
            actual = hashlib.sha256(body or b"").hexdigest()
            if declared != actual:
                raise AuthError("content_sha256", "The provided 'x-amz-content-sha256' header does "
                                "not match what was computed.", client=declared, server=actual)
    elif info.form == "header":
        declared = received_headers.get("X-Amz-Content-SHA256")
        if declared and declared != "UNSIGNED-PAYLOAD" and declared != hashlib.sha256(body or b"").hexdigest():
            raise AuthError("signature", "x-amz-content-sha256 does not match the body",
                            canonical=canonical, string_to_sign=sts)

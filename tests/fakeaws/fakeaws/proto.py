"""Response shapes per protocol: JSON 1.1 (logs), REST-XML (S3), Query (STS, SNS)."""
import base64
import hashlib
import json
from xml.sax.saxutils import escape

JSON_CT = "application/x-amz-json-1.1"
XML_CT = "application/xml"
TEXT_XML_CT = "text/xml"
NS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "s3": "http://s3.amazonaws.com/doc/2006-03-01/",
    "monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
}
PROTOCOL = {"logs": "json", "s3": "rest-xml", "sts": "query", "sns": "query", "monitoring": "query"}


class Resp:
    def __init__(self, status=200, body=b"", ctype=None, headers=None, code=None, task_id=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = list(headers or [])
        if ctype:
            self.headers.append(("Content-Type", ctype))
        self.code = code          # error code, None on success
        self.task_id = task_id


class ApiError(Exception):
    def __init__(self, code, message, status=400, extra=None, headers=None, coral=False, sender=True):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.extra = extra or {}
        self.headers = headers or []
        self.coral = coral
        self.sender = sender


def x(v):
    return escape(str(v))


def json_ok(obj):
    return Resp(200, json.dumps(obj, separators=(",", ":")), JSON_CT)


def json_error(e):
    t = ("com.amazon.coral.service#" + e.code) if e.coral else e.code
    body = {"__type": t, "message": e.message}
    return Resp(e.status, json.dumps(body), JSON_CT, e.headers, code=e.code)


def s3_error(e, request_id, host_id, head=False):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
             % (x(e.code), x(e.message))]
    for k, v in e.extra.items():
        parts.append("<%s>%s</%s>" % (k, x(v), k))
    parts.append("<RequestId>%s</RequestId><HostId>%s</HostId></Error>" % (request_id, host_id))
    body = b"" if head else "".join(parts).encode()
    return Resp(e.status, body, XML_CT if not head else None, e.headers, code=e.code)


def query_error(service, e, request_id):
    body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
            '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
            % (NS.get(service, NS["sts"]), "Sender" if e.sender else "Receiver", x(e.code), x(e.message),
               request_id))
    return Resp(e.status, body, TEXT_XML_CT, e.headers, code=e.code)


def query_ok(service, action, result_xml, request_id):
    body = ('<%sResponse xmlns="%s">\n  <%sResult>\n%s\n  </%sResult>\n  <ResponseMetadata>\n'
            '    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n</%sResponse>\n'
            % (action, NS[service], action, result_xml, action, request_id, action))
    return Resp(200, body, TEXT_XML_CT)


def host_id(request_id):
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest() * 2).decode()[:76]


# Auth failures per protocol: kind -> (code, status, message)
AUTH_ERRORS = {
    "json": {
        "missing": ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        "malformed": ("IncompleteSignatureException", 400, None),
        "unknown_key": ("UnrecognizedClientException", 400, "The security token included in the request is invalid."),
        "invalid_token": ("UnrecognizedClientException", 400, "The security token included in the request is invalid."),
        "expired_token": ("ExpiredTokenException", 400, "The security token included in the request is expired"),
        "skew": ("InvalidSignatureException", 400, None),
        "presign_expired": ("InvalidSignatureException", 400, None),
        "signature": ("InvalidSignatureException", 400, None),
        "missing_sha256": ("InvalidSignatureException", 400, None),
        "content_sha256": ("InvalidSignatureException", 400, None),
        "unsupported_payload": ("InvalidSignatureException", 400, None),
    },
    "query": {
        "missing": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "malformed": ("IncompleteSignature", 400, None),
        "unknown_key": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
        "invalid_token": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
        "expired_token": ("ExpiredToken", 403, "The security token included in the request is expired"),
        "skew": ("SignatureDoesNotMatch", 403, None),
        "presign_expired": ("SignatureDoesNotMatch", 403, None),
        "signature": ("SignatureDoesNotMatch", 403, None),
        "missing_sha256": ("SignatureDoesNotMatch", 403, None),
        "content_sha256": ("SignatureDoesNotMatch", 403, None),
        "unsupported_payload": ("SignatureDoesNotMatch", 403, None),
    },
    "rest-xml": {
        "missing": ("AccessDenied", 403, "Access Denied"),
        "malformed": ("AuthorizationHeaderMalformed", 400, None),
        "unknown_key": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
        "invalid_token": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        "expired_token": ("ExpiredToken", 400, "The provided token has expired."),
        "skew": ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
        "presign_expired": ("AccessDenied", 403, "Request has expired"),
        "signature": ("SignatureDoesNotMatch", 403, "The request signature we calculated does not match the "
                      "signature you provided. Check your key and signing method."),
        "missing_sha256": ("InvalidRequest", 400, "Missing required header for this request: x-amz-content-sha256"),
        "content_sha256": ("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not "
                           "match what was computed."),
        "unsupported_payload": ("NotImplemented", 501, None),
    },
}

SIG_MSG = ("The request signature we calculated does not match the signature you provided. Check your "
           "AWS Secret Access Key and signing method. Consult the service documentation for details.")

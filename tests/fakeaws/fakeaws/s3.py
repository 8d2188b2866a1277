"""S3 REST-XML: buckets and objects (path-style and virtual-hosted style)."""
import base64
import bisect
import email.utils
import hashlib
import re
import time
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import quote, unquote

from . import model
from .proto import NS, XML_CT, ApiError, Resp, x
from .state import S3Object, b64token, unb64token

_VHOST_RE = re.compile(r"^(?P<b>.+?)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?$")


def bucket_from_host(host):
    """Virtual-hosted bucket name from a Host header, or None for path-style."""
    h = (host or "").strip().lower()
    if h.startswith("["):
        return None
    h = h.rsplit(":", 1)[0] if ":" in h else h
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", h) or h in ("localhost", ""):
        return None
    for suffix in (".localhost", ".amazonaws.com.cn", ".amazonaws.com"):
        if h.endswith(suffix):
            rest = h[: -len(suffix)]
            if rest.startswith("s3.") or rest.startswith("s3-") or rest == "s3":
                return None
            m = _VHOST_RE.match(rest)
            if m:
                return m.group("b")
            return rest if suffix == ".localhost" else None
    return None


def split(host, raw_path):
    """-> (bucket, key) with the key URL-decoded."""
    vb = bucket_from_host(host)
    path = raw_path
    if vb:
        key = unquote(path[1:]) if len(path) > 1 else None
        return vb, key
    parts = path[1:].split("/", 1)
    bucket = unquote(parts[0]) if parts[0] else None
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] != "" else None
    return bucket, key


def operation(method, bucket, key, q):
    if bucket is None:
        return "ListBuckets" if method == "GET" else "Unknown"
    if key is None:
        if method == "HEAD":
            return "HeadBucket"
        if method == "GET":
            if "location" in q:
                return "GetBucketLocation"
            if q.get("list-type") == "2":
                return "ListObjectsV2"
            if "uploads" in q:
                return "ListMultipartUploads"
            if any(k in q for k in ("acl", "policy", "versioning", "encryption", "tagging", "lifecycle",
                                    "ownershipControls", "publicAccessBlock", "logging", "notification")):
                return "GetBucket" + next(k for k in q if k in ("acl", "policy", "versioning", "encryption",
                                                              "tagging", "lifecycle", "ownershipControls",
                                                              "publicAccessBlock", "logging",
                                                              "notification")).capitalize()
            return "ListObjects"
        if method == "POST" and "delete" in q:
            return "DeleteObjects"
        if method == "PUT":
            return "CreateBucket"
        if method == "DELETE":
            return "DeleteBucket"
        return "Unknown"
    if "uploads" in q or "uploadId" in q:
        return "MultipartUpload"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(
        method, "Unknown")


def httpdate(ts):
    return email.utils.formatdate(ts, usegmt=True)


def isodate(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int((ts % 1) * 1000)


def _inc(s):
    return s[:-1] + chr(ord(s[-1]) + 1) if s else s


def _obj_headers(o):
    h = [("ETag", o.etag), ("Last-Modified", httpdate(o.mtime)), ("Accept-Ranges", "bytes"),
         ("Content-Type", o.ctype)]
    for k, v in o.meta.items():
        h.append(("x-amz-meta-" + k, v))
    return h


# Flexible checksums (what the AWS SDKs send by default on PutObject:
# x-amz-sdk-checksum-algorithm and x-amz-checksum-<algorithm>, base64 of the
# digest). CRC32C and CRC64NVME are accepted unchecked (no stdlib digest).
_CHECKSUMS = (
    ("x-amz-checksum-crc32", "CRC32", lambda b: zlib.crc32(b).to_bytes(4, "big")),
    ("x-amz-checksum-sha1", "SHA1", lambda b: hashlib.sha1(b).digest()),
    ("x-amz-checksum-sha256", "SHA256", lambda b: hashlib.sha256(b).digest()),
)


def check_checksums(headers, body):
    """-> the (header, value) pairs to echo; ApiError BadDigest on a mismatch."""
    echo = []
    for name, algo, digest in _CHECKSUMS:
        v = headers.get(name)
        if v is None:
            continue
        if v.strip() != base64.b64encode(digest(body or b"")).decode():
            raise ApiError("BadDigest", "The %s you specified did not match the calculated checksum." % algo,
                           400)
        echo.append((name, v.strip()))
    return echo


def _no_bucket(name):
    return ApiError("NoSuchBucket", "The specified bucket does not exist", 404, {"BucketName": name})


def _denied():
    return ApiError("AccessDenied", "Access Denied", 403)


_PRECONDITION_MSG = "At least one of the pre-conditions you specified did not hold"


def _conditional_checks(world, headers):
    """Conditional writes (S3 user guide, "How to prevent object overwrites with conditional
    writes"): with the setting s3_conditional_writes false the fake is an S3-like store without
    them and answers 501 NotImplemented to the headers; s3_conflict_rate answers that share of
    conditional requests 409 ConditionalRequestConflict (a concurrent write won; retry)."""
    cond = headers.get("If-None-Match") is not None or headers.get("If-Match") is not None
    if not cond:
        return
    if not world.settings.get("s3_conditional_writes", True):
        raise ApiError("NotImplemented", "A header you provided implies functionality that is not implemented",
                       501, {"Header": "If-None-Match" if headers.get("If-None-Match") is not None
                             else "If-Match"})
    if world.draw(world.settings.get("s3_conflict_rate", 0)):
        raise ApiError("ConditionalRequestConflict", "A conflicting conditional action is currently in "
                       "progress against this resource. Please try again.", 409)


def _precondition(b, key, headers):
    """Called under the world lock: the condition and the write are one atomic step, as in S3.
    If-None-Match: * on an existing key and If-Match with another ETag answer 412
    PreconditionFailed; If-Match on a missing key answers 404 NoSuchKey."""
    inm = headers.get("If-None-Match")
    if inm is not None and inm.strip() == "*" and key in b.objects:
        raise ApiError("PreconditionFailed", _PRECONDITION_MSG, 412, {"Condition": "If-None-Match"})
    im = headers.get("If-Match")
    if im is not None:
        o = b.objects.get(key)
        if o is None:
            raise ApiError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})
        if im.strip() != "*" and im.strip() != o.etag:
            raise ApiError("PreconditionFailed", _PRECONDITION_MSG, 412, {"Condition": "If-Match"})


def handle(world, op, method, bucket, key, q, headers, body, account, region):
    if op == "ListBuckets":
        with world.lock:
            bs = sorted((b for b in world.buckets.values() if b.account == account), key=lambda b: b.name)
        items = "".join("<Bucket><Name>%s</Name><CreationDate>%s</CreationDate></Bucket>"
                        % (x(b.name), isodate(model.parse_time(b.creation) / 1000)) for b in bs)
        return Resp(200, '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="%s"><Owner>'
                    '<ID>%s</ID></Owner><Buckets>%s</Buckets></ListAllMyBucketsResult>'
                    % (NS["s3"], hashlib.sha256(account.encode()).hexdigest(), items), XML_CT)
    with world.lock:
        b = world.buckets.get(bucket)
    if b is None:
        raise _no_bucket(bucket)
    if not b.allowed(account):
        raise _denied()
    # As S3 does: a request naming another account as the bucket's owner is
    # refused with a plain 403 AccessDenied.
    owner = headers.get("x-amz-expected-bucket-owner")
    if owner is not None and owner != b.account:
        raise _denied()
    if op == "GetBucketLocation":
        loc = "" if b.region == "us-east-1" else b.region
        return Resp(200, '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="%s">%s'
                    '</LocationConstraint>' % (NS["s3"], loc), XML_CT)
    mode = world.settings.get("s3_wrong_region", "redirect")
    if region != b.region and mode != "ignore":
        hdr = [("x-amz-bucket-region", b.region)]
        if op == "HeadBucket":
            raise ApiError("PermanentRedirect", "", 301, headers=hdr)
        if mode == "malformed":
            raise ApiError("AuthorizationHeaderMalformed", "The authorization header is malformed; the region "
                           "'%s' is wrong; expecting '%s'" % (region, b.region), 400, {"Region": b.region},
                           headers=hdr)
        raise ApiError("PermanentRedirect", "The bucket you are attempting to access must be addressed using "
                       "the specified endpoint. Please send all future requests to this endpoint.", 301,
                       {"Endpoint": "%s.s3.%s.amazonaws.com" % (b.name, b.region), "Bucket": b.name},
                       headers=hdr)
    if op == "HeadBucket":
        if b.deny_read:
            raise _denied()
        return Resp(200, b"", None, [("x-amz-bucket-region", b.region), ("x-amz-access-point-alias", "false")])
    if op in ("ListObjectsV2", "ListObjects"):
        if b.deny_read:
            raise _denied()
        return list_objects(world, b, q, v2=(op == "ListObjectsV2"))
    if op == "GetObject" or op == "HeadObject":
        if b.deny_read:
            raise _denied()
        with world.lock:
            o = b.objects.get(key)
        if o is None:
            raise ApiError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})
        hdrs = _obj_headers(o)
        data = o.body
        status = 200
        rng = headers.get("Range")
        if rng:
            m = re.match(r"^bytes=(\d*)-(\d*)$", rng.strip())
            if m:
                n = len(data)
                if m.group(1) == "":
                    a, e = max(0, n - int(m.group(2) or 0)), n - 1
                else:
                    a = int(m.group(1))
                    e = min(int(m.group(2)), n - 1) if m.group(2) else n - 1
                if a >= n or a > e:
                    raise ApiError("InvalidRange", "The requested range is not satisfiable", 416,
                                   {"RangeRequested": rng, "ActualObjectSize": n})
                data = data[a:e + 1]
                status = 206
                hdrs.append(("Content-Range", "bytes %d-%d/%d" % (a, e, n)))
        inm = headers.get("If-None-Match")
        if inm and inm.strip() in (o.etag, "*"):
            return Resp(304, b"", None, hdrs[:2])
        r = Resp(status, data, None, hdrs)
        return r
    if op in ("PutObject", "DeleteObject", "DeleteObjects"):
        if b.read_only or b.deny_write:
            raise _denied()
    if op == "PutObject":
        src = headers.get("x-amz-copy-source")
        md5 = headers.get("Content-MD5")
        if md5 and not src:
            try:
                want = base64.b64decode(md5)
            except Exception:
                raise ApiError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
            if want != hashlib.md5(body).digest():
                raise ApiError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
        checksums = [] if src else check_checksums(headers, body)
        _conditional_checks(world, headers)
        with world.lock:
            _precondition(b, key, headers)
            meta = {k[len("x-amz-meta-"):].lower(): v for k, v in headers.items()
                    if k.lower().startswith("x-amz-meta-")}
            if src:
                sb, _, sk = unquote(src).lstrip("/").partition("/")
                sbk = world.buckets.get(sb)
                if sbk is None:
                    raise _no_bucket(sb)
                so = sbk.objects.get(sk)
                if so is None:
                    raise ApiError("NoSuchKey", "The specified key does not exist.", 404, {"Key": sk})
                o = S3Object(so.body, time.time(), so.ctype, dict(so.meta))
                b.put(key, o)
                return Resp(200, '<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><LastModified>%s'
                            '</LastModified><ETag>%s</ETag></CopyObjectResult>' % (isodate(o.mtime), x(o.etag)),
                            XML_CT)
            o = S3Object(body, time.time(), headers.get("Content-Type") or "binary/octet-stream", meta)
            b.put(key, o)
        return Resp(200, b"", None, [("ETag", o.etag)] + checksums)
    if op == "DeleteObject":
        if headers.get("If-Match") is not None:
            _conditional_checks(world, headers)
        with world.lock:
            if headers.get("If-Match") is not None:
                _precondition(b, key, headers)
            b.delete(key)
        return Resp(204, b"")
    if op == "DeleteObjects":
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise ApiError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                           "against our published schema", 400)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        quiet = (root.findtext(ns + "Quiet") or "").lower() == "true"
        out = []
        with world.lock:
            for ob in root.findall(ns + "Object"):
                k = ob.findtext(ns + "Key")
                b.delete(k)
                if not quiet:
                    out.append("<Deleted><Key>%s</Key></Deleted>" % x(k))
        return Resp(200, '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="%s">%s</DeleteResult>'
                    % (NS["s3"], "".join(out)), XML_CT)
    raise ApiError("NotImplemented", "A header or query you provided implies functionality that is not "
                   "implemented by this fake (%s)." % op, 501)


def list_objects(world, b, q, v2=True):
    prefix = q.get("prefix", "")
    delim = q.get("delimiter", "")
    enc = q.get("encoding-type")
    if enc is not None and enc != "url":
        raise ApiError("InvalidArgument", "Invalid Encoding Method specified in Request", 400,
                       {"ArgumentName": "encoding-type", "ArgumentValue": enc})
    try:
        max_keys = int(q.get("max-keys", "1000"))
        if max_keys < 0:
            raise ValueError
    except ValueError:
        raise ApiError("InvalidArgument", "Provided max-keys not an integer or within integer range", 400,
                       {"ArgumentName": "max-keys", "ArgumentValue": q.get("max-keys")})
    max_keys = min(max_keys, 1000)
    ctoken = q.get("continuation-token")
    start_after = q.get("start-after", "") if v2 else ""
    marker = q.get("marker", "") if not v2 else ""

    def enc_(s):
        return quote(s, safe="/") if enc == "url" else s

    with world.lock:
        keys = b.keys
        i = bisect.bisect_left(keys, prefix)
        if v2 and ctoken is not None:
            try:
                tok = unb64token(ctoken)
                last, is_cp = tok["k"], tok["cp"]
            except Exception:
                raise ApiError("InvalidArgument", "The continuation token provided is incorrect", 400,
                               {"ArgumentName": "continuation-token"})
            i = max(i, bisect.bisect_left(keys, _inc(last)) if is_cp else bisect.bisect_right(keys, last))
        elif v2 and start_after:
            i = max(i, bisect.bisect_right(keys, start_after))
        elif marker:
            if delim and marker.endswith(delim):
                i = max(i, bisect.bisect_left(keys, _inc(marker)))
            else:
                i = max(i, bisect.bisect_right(keys, marker))
        contents, cps = [], []
        count = 0
        last, last_cp = None, False
        truncated = False
        n = len(keys)
        while i < n:
            k = keys[i]
            if not k.startswith(prefix):
                break
            if count >= max_keys:
                truncated = max_keys > 0
                break
            if delim:
                j = k.find(delim, len(prefix))
                if j >= 0:
                    cp = k[: j + len(delim)]
                    cps.append(cp)
                    count += 1
                    last, last_cp = cp, True
                    i = bisect.bisect_left(keys, _inc(cp))
                    continue
            contents.append((k, b.objects[k]))
            count += 1
            last, last_cp = k, False
            i += 1
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="%s"><Name>%s</Name>'
             '<Prefix>%s</Prefix>' % (NS["s3"], x(b.name), x(enc_(prefix)))]
    if v2:
        if ctoken is not None:
            parts.append("<ContinuationToken>%s</ContinuationToken>" % x(ctoken))
        if start_after:
            parts.append("<StartAfter>%s</StartAfter>" % x(enc_(start_after)))
        if truncated:
            parts.append("<NextContinuationToken>%s</NextContinuationToken>"
                         % b64token({"k": last, "cp": last_cp}))
        parts.append("<KeyCount>%d</KeyCount>" % count)
    else:
        parts.append("<Marker>%s</Marker>" % x(enc_(marker)))
        if truncated and delim:
            parts.append("<NextMarker>%s</NextMarker>" % x(enc_(last)))
    parts.append("<MaxKeys>%d</MaxKeys>" % max_keys)
    if delim:
        parts.append("<Delimiter>%s</Delimiter>" % x(enc_(delim)))
    if enc:
        parts.append("<EncodingType>url</EncodingType>")
    parts.append("<IsTruncated>%s</IsTruncated>" % ("true" if truncated else "false"))
    for k, o in contents:
        parts.append("<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>%s</ETag><Size>%d</Size>"
                     "<StorageClass>STANDARD</StorageClass></Contents>"
                     % (x(enc_(k)), isodate(o.mtime), x(o.etag), len(o.body)))
    for cp in cps:
        parts.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % x(enc_(cp)))
    parts.append("</ListBucketResult>")
    return Resp(200, "".join(parts), XML_CT)

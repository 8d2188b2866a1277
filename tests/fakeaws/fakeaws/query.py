"""STS and SNS (Query protocol: form body, XML answers)."""
import hashlib
import re
import time

from . import model
from .proto import ApiError, query_ok, x

STS_ACTIONS = ("GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity")
SNS_ACTIONS = ("Publish", "GetTopicAttributes", "ListTopics")
UNSIGNED_ACTIONS = ("AssumeRoleWithWebIdentity",)


def _iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _required(p, *names):
    missing = [n for n in names if not p.get(n)]
    if missing:
        n = missing[0]
        raise ApiError("ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy "
                       "constraint: Member must not be null" % (n[0].lower() + n[1:]))


def _creds_xml(c):
    return ("    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n      <SecretAccessKey>%s</SecretAccessKey>\n"
            "      <SessionToken>%s</SessionToken>\n      <Expiration>%s</Expiration>\n    </Credentials>"
            % (c.access_key, x(c.secret), x(c.token), _iso(c.expires)))


def _assume(world, p, caller, web):
    _required(p, "RoleArn", "RoleSessionName")
    arn, session = p["RoleArn"], p["RoleSessionName"]
    if not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
        raise ApiError("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed "
                       "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
                       % session)
    m = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", arn)
    if not m:
        raise ApiError("ValidationError", "%s is invalid" % arn)
    try:
        duration = int(p.get("DurationSeconds", "3600"))
    except ValueError:
        raise ApiError("ValidationError", "DurationSeconds must be an integer")
    if duration < 900 or duration > 43200:
        raise ApiError("ValidationError", "1 validation error detected: Value '%d' at 'durationSeconds' failed "
                       "to satisfy constraint: Member must have value between 900 and 43200" % duration)
    role = world.roles.get(arn)
    who = caller.arn if caller else "anonymous"
    denied = ApiError("AccessDenied", "User: %s is not authorized to perform: sts:%s on resource: %s"
                      % (who, "AssumeRoleWithWebIdentity" if web else "AssumeRole", arn), 403)
    if role is None:
        raise denied
    if web:
        tok = p.get("WebIdentityToken", "")
        if not tok:
            _required(p, "WebIdentityToken")
        if tok.strip() not in [t.strip() for t in world.web_tokens] or role.get("allow_web_identity") is False:
            raise ApiError("InvalidIdentityToken", "Couldn't retrieve verification key from your identity "
                           "provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
    else:
        trusted = role.get("trusted_accounts")
        if trusted is not None and caller.account not in [str(a) for a in trusted]:
            raise denied
        if trusted is None and caller.account not in world.accounts:
            raise denied
        ext = role.get("external_id")
        if ext is not None and p.get("ExternalId") != ext:
            raise denied
    if duration > int(role.get("max_session_s", 3600)):
        raise ApiError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                       "this role.")
    account, name = m.group(1), m.group(2)
    role_id = "AROA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper()
    assumed_arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (account, name, session)
    c = world.issue_credentials(account, assumed_arn, "%s:%s" % (role_id, session), duration, arn)
    user = ("    <AssumedRoleUser>\n      <AssumedRoleId>%s:%s</AssumedRoleId>\n      <Arn>%s</Arn>\n"
            "    </AssumedRoleUser>" % (role_id, x(session), x(assumed_arn)))
    return c, user


def handle_sts(world, action, p, caller, region, request_id):
    if action == "GetCallerIdentity":
        return query_ok("sts", action, "    <Arn>%s</Arn>\n    <UserId>%s</UserId>\n    <Account>%s</Account>"
                        % (x(caller.arn), x(caller.user_id), caller.account), request_id)
    if action == "AssumeRole":
        c, user = _assume(world, p, caller, web=False)
        return query_ok("sts", action, "%s\n%s\n    <PackedPolicySize>0</PackedPolicySize>"
                        % (user, _creds_xml(c)), request_id)
    if action == "AssumeRoleWithWebIdentity":
        c, user = _assume(world, p, None, web=True)
        sub = hashlib.sha1(p.get("WebIdentityToken", "").encode()).hexdigest()[:20]
        return query_ok("sts", action, "%s\n    <SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken>\n"
                        "%s\n    <Provider>%s</Provider>\n    <Audience>sts.amazonaws.com</Audience>"
                        % (_creds_xml(c), sub, user, x(p.get("ProviderId", "oidc.fake.local"))), request_id)
    raise ApiError("InvalidAction", "Could not find operation %s for version 2011-06-15" % action)


def handle_sns(world, action, p, caller, region, request_id):
    if action == "Publish":
        arn = p.get("TopicArn") or p.get("TargetArn")
        if not arn and not p.get("PhoneNumber"):
            raise ApiError("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for "
                           "required parameter")
        if "Message" not in p or p.get("Message") == "":
            raise ApiError("ValidationError", "1 validation error detected: Value null at 'message' failed to "
                           "satisfy constraint: Member must not be null")
        m = re.fullmatch(r"arn:aws:sns:([\w-]+):(\d{12}):([\w.-]+)", arn or "")
        if not m or m.group(1) != region:
            raise ApiError("InvalidParameter", "Invalid parameter: TopicArn")
        with world.lock:
            if arn not in world.topics and not world.sns_auto:
                raise ApiError("NotFound", "Topic does not exist", 404)
        if len(p.get("Subject", "")) > 100:
            raise ApiError("InvalidParameter", "Invalid parameter: Subject")
        if len(p["Message"].encode()) > 262144:
            raise ApiError("InvalidParameter", "Invalid parameter: Message too long")
        with world.lock:
            mid = str(__import__("uuid").UUID(int=world.rng.getrandbits(128), version=4))
            attrs = {}
            i = 1
            while "MessageAttributes.entry.%d.Name" % i in p:
                attrs[p["MessageAttributes.entry.%d.Name" % i]] = p.get(
                    "MessageAttributes.entry.%d.Value.StringValue" % i)
                i += 1
            world.sns_messages.append({"message_id": mid, "topic_arn": arn, "subject": p.get("Subject"),
                                       "message": p["Message"], "attributes": attrs, "account": caller.account,
                                       "region": region, "wall": time.time()})
        return query_ok("sns", action, "    <MessageId>%s</MessageId>" % mid, request_id)
    if action == "GetTopicAttributes":
        arn = p.get("TopicArn")
        with world.lock:
            if arn not in world.topics:
                raise ApiError("NotFound", "Topic does not exist", 404)
        owner = arn.split(":")[4]
        entries = "".join("      <entry><key>%s</key><value>%s</value></entry>\n" % (k, x(v)) for k, v in
                          (("TopicArn", arn), ("Owner", owner), ("DisplayName", ""),
                           ("SubscriptionsConfirmed", "0"), ("SubscriptionsPending", "0")))
        return query_ok("sns", action, "    <Attributes>\n%s    </Attributes>" % entries, request_id)
    if action == "ListTopics":
        with world.lock:
            arns = sorted(t for t in world.topics if t.split(":")[3] == region)
        members = "".join("      <member><TopicArn>%s</TopicArn></member>\n" % x(a) for a in arns)
        return query_ok("sns", action, "    <Topics>\n%s    </Topics>" % members, request_id)
    raise ApiError("InvalidAction", "Could not find operation %s for version 2010-03-31" % action)

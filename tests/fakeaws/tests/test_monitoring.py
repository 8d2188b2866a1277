"""CloudWatch in the fake: GetMetricData and GetMetricStatistics for AWS/Logs IncomingBytes,
through botocore (its request serialisation and its parser of the answers), with the
retention and periods CloudWatch documents and its limits."""
import datetime as dt
import time

import botocore.exceptions
import pytest

from conftest import KEY_A
from fixture import botocore_client

DAY = 86400


def utc(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def midnight(days_back):
    t = int(time.time()) // DAY * DAY - days_back * DAY
    return utc(t)


def query(i, group, period=DAY, stat="Sum", metric="IncomingBytes"):
    return {"Id": "q%d" % i, "MetricStat": {"Metric": {
        "Namespace": "AWS/Logs", "MetricName": metric,
        "Dimensions": [{"Name": "LogGroupName", "Value": group}]}, "Period": period, "Stat": stat}}


@pytest.fixture(scope="module")
def cw(fake):
    fake.reset()
    return botocore_client(fake, "cloudwatch", key=KEY_A)


def test_daily_sums_of_a_group(cw):
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/api"), query(1, "/app/empty")],
                           StartTime=midnight(10), EndTime=midnight(0), ScanBy="TimestampAscending")
    api, empty = r["MetricDataResults"]
    assert api["Id"] == "q0" and api["StatusCode"] == "Complete" and api["Label"] == "IncomingBytes"
    assert api["Timestamps"] == [midnight(10 - d) for d in range(10)]
    assert api["Values"] == [50e6] * 10
    # A group that took nothing in has no data point at all, as CloudWatch answers.
    assert empty["Id"] == "q1" and empty["Timestamps"] == [] and empty["Values"] == []
    assert "NextToken" not in r
    # Newest first by default.
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/api")], StartTime=midnight(3),
                           EndTime=midnight(0))
    assert r["MetricDataResults"][0]["Timestamps"] == [midnight(1), midnight(2), midnight(3)]


def test_retention_455_days_and_periods(cw):
    # Daily points older than 455 days are gone (/bench/g0000 is 730 days old). The log
    # group's own retention does not matter: the metric counts what came in.
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/bench/g0000")], StartTime=midnight(470),
                           EndTime=midnight(440), ScanBy="TimestampAscending")
    ts = r["MetricDataResults"][0]["Timestamps"]
    horizon = utc(time.time() - 455 * DAY)
    assert ts and all(t >= horizon for t in ts) and len(ts) in (14, 15)
    # /aws/lambda/worker keeps 30 days of logs: 100 days ago it still took bytes in.
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/worker")], StartTime=midnight(100),
                           EndTime=midnight(99))
    assert r["MetricDataResults"][0]["Values"] == [1e6]
    # 1-minute data is kept 15 days, 5-minute data 63 days.
    start = utc(time.time() - 20 * DAY)
    end = utc(time.time() - 20 * DAY + 1800)
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/api", period=60)], StartTime=start,
                           EndTime=end)
    assert r["MetricDataResults"][0]["Values"] == []
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/api", period=300)], StartTime=start,
                           EndTime=end)
    assert len(r["MetricDataResults"][0]["Values"]) in (6, 7)
    # Another metric nobody published: no data, no error.
    r = cw.get_metric_data(MetricDataQueries=[query(0, "/aws/lambda/api", metric="IncomingLogEvents")],
                           StartTime=midnight(3), EndTime=midnight(0))
    assert r["MetricDataResults"][0]["Values"] == []


def test_next_token_pages(cw):
    qs = [query(0, "/aws/lambda/api"), query(1, "/app/gappy")]
    got = {"q0": [], "q1": []}
    kw = {"MetricDataQueries": qs, "StartTime": midnight(4), "EndTime": midnight(0), "MaxDatapoints": 3,
          "ScanBy": "TimestampAscending"}
    pages = 0
    while True:
        r = cw.get_metric_data(**kw)
        pages += 1
        for m in r["MetricDataResults"]:
            got[m["Id"]] += m["Timestamps"]
            if m["Id"] == "q0" and pages == 1:
                assert m["StatusCode"] == "PartialData"
        if "NextToken" not in r:
            break
        kw["NextToken"] = r["NextToken"]
    assert pages == 3
    assert got["q0"] == got["q1"] == [midnight(4 - d) for d in range(4)]


def expect_error(code, fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    assert e.value.response["Error"]["Code"] == code, e.value.response
    return e.value.response["Error"]["Message"]


def test_limits_and_bad_parameters(cw):
    many = [query(i, "/aws/lambda/api") for i in range(501)]
    msg = expect_error("InvalidParameterValue", cw.get_metric_data, MetricDataQueries=many,
                       StartTime=midnight(2), EndTime=midnight(0))
    assert "500" in msg
    # 500 is fine.
    r = cw.get_metric_data(MetricDataQueries=many[:500], StartTime=midnight(2), EndTime=midnight(0))
    assert len(r["MetricDataResults"]) == 500
    expect_error("InvalidParameterValue", cw.get_metric_data,
                 MetricDataQueries=[dict(query(0, "/a"), Id="Q-1")], StartTime=midnight(2), EndTime=midnight(0))
    expect_error("InvalidParameterValue", cw.get_metric_data,
                 MetricDataQueries=[query(0, "/a"), query(0, "/b")], StartTime=midnight(2), EndTime=midnight(0))
    expect_error("InvalidParameterValue", cw.get_metric_data,
                 MetricDataQueries=[query(0, "/a")], StartTime=midnight(0), EndTime=midnight(2))
    expect_error("InvalidParameterValue", cw.get_metric_data,
                 MetricDataQueries=[query(0, "/a", period=90)], StartTime=midnight(2), EndTime=midnight(0))
    expect_error("InvalidNextToken", cw.get_metric_data, MetricDataQueries=[query(0, "/a")],
                 StartTime=midnight(2), EndTime=midnight(0), NextToken="garbage")


def test_get_metric_statistics(cw):
    dims = [{"Name": "LogGroupName", "Value": "/aws/lambda/api"}]
    r = cw.get_metric_statistics(Namespace="AWS/Logs", MetricName="IncomingBytes", Dimensions=dims,
                                 StartTime=midnight(5), EndTime=midnight(0), Period=DAY,
                                 Statistics=["Sum", "SampleCount"])
    assert r["Label"] == "IncomingBytes"
    pts = sorted(r["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in pts] == [midnight(5 - d) for d in range(5)]
    assert all(p["Sum"] == 50e6 and p["SampleCount"] == 1440 and p["Unit"] == "Bytes" for p in pts)
    msg = expect_error("InvalidParameterCombination", cw.get_metric_statistics, Namespace="AWS/Logs",
                       MetricName="IncomingBytes", Dimensions=dims, StartTime=midnight(2),
                       EndTime=midnight(0), Period=60, Statistics=["Sum"])
    assert "2,880 datapoints" in msg and "1,440" in msg
    expect_error("InvalidParameterValue", cw.get_metric_statistics, Namespace="AWS/Logs",
                 MetricName="IncomingBytes", Dimensions=dims, StartTime=midnight(2), EndTime=midnight(0),
                 Period=DAY, Statistics=["p99"])


def test_signature_checked(fake):
    bad = botocore_client(fake, "cloudwatch", key=dict(KEY_A, secret="wrong" * 8))
    msg = expect_error("SignatureDoesNotMatch", bad.get_metric_data, MetricDataQueries=[query(0, "/a")],
                       StartTime=midnight(2), EndTime=midnight(0))
    assert "Canonical String" in msg
    unknown = botocore_client(fake, "cloudwatch", key=dict(KEY_A, access_key="AKIAUNKNOWN000000001"))
    expect_error("InvalidClientTokenId", unknown.get_metric_data, MetricDataQueries=[query(0, "/a")],
                 StartTime=midnight(2), EndTime=midnight(0))

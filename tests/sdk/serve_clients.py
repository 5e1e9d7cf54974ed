"""jot-serve driven by boto3 and the AWS CLI, unchanged but for endpoint_url and
the credentials jot-serve wrote (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE=jot-serve).

Run by tests/serve_sdk.rs: python serve_clients.py ENDPOINT NAME SOURCE DEAD_LETTER V2_SOURCE_TEXT
Exits non-zero (with the failed assertion) when jot-serve does not answer as Lambda does.
"""
import base64
import json
import os
import subprocess
import sys
import time

import boto3
from botocore.config import Config

endpoint, name, source, dead_letter, v2_code = sys.argv[1:6]
session = boto3.Session(profile_name=os.environ["AWS_PROFILE"])
client = session.client(
    "lambda",
    endpoint_url=endpoint,
    region_name="us-east-1",
    # One attempt: a retried 429 or 5xx would hide what jot-serve answered.
    config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
)


def expect_error(exception, **kwargs):
    try:
        client.invoke(**kwargs)
    except exception:
        return
    raise AssertionError(f"{kwargs} did not raise {exception.__name__}")


def check(step, condition, detail=""):
    if not condition:
        raise AssertionError(f"{step}: {detail}")
    print(f"ok: {step}", flush=True)


# Invoke, with the log tail ending in a REPORT line.
answer = client.invoke(FunctionName=name, Payload=json.dumps({"v": 5}), LogType="Tail")
body = json.loads(answer["Payload"].read())
check("invoke", answer["StatusCode"] == 200 and body == {"version": 1, "v": 5, "fv": "$LATEST"}, body)
check("executed version", answer["ExecutedVersion"] == "$LATEST", answer["ExecutedVersion"])
log = base64.b64decode(answer["LogResult"]).decode()
check("log tail", log.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ") and len(log) <= 4096, log)

# A function error comes back as FunctionError with the error JSON.
answer = client.invoke(FunctionName=name, Payload=json.dumps({"fail": True}))
body = json.loads(answer["Payload"].read())
check("function error", answer.get("FunctionError") == "Unhandled" and "boom" in body["errorMessage"], body)

check("dry run", client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204)
expect_error(client.exceptions.ResourceNotFoundException, FunctionName=name, Qualifier="no-such-alias")
expect_error(client.exceptions.ResourceNotFoundException, FunctionName=name, Qualifier="99")
expect_error(client.exceptions.ResourceNotFoundException,
             FunctionName=f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
expect_error(client.exceptions.InvalidParameterValueException, FunctionName=name, InvocationType="Bogus")
expect_error(client.exceptions.InvalidRequestContentException, FunctionName=name, Payload=b"{not json")
print("ok: qualifier and parameter errors", flush=True)

# The control plane answers the user alone: wrong credentials are refused as on AWS.
stranger = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIASTRANGER", aws_secret_access_key="guess",
                        config=Config(retries={"total_max_attempts": 1}))
try:
    stranger.list_functions()
    raise AssertionError("list_functions with a stranger's keys was answered")
except stranger.exceptions.ClientError as e:
    check("stranger refused", e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response)

functions = client.list_functions()["Functions"]
check("list functions", any(f["FunctionName"] == name for f in functions), functions)
got = client.get_function(FunctionName=name)
check("get function", got["Configuration"]["FunctionName"] == name and got["Code"]["ImageUri"], got)

# Event: tried three times, then one record in the dead-letter file.
answer = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"fail": True, "v": 9}))
check("event accepted", answer["StatusCode"] == 202)
deadline = time.time() + 60
records = []
while time.time() < deadline and not records:
    if os.path.exists(dead_letter):
        records = [json.loads(line) for line in open(dead_letter) if line.strip()]
    time.sleep(0.1)
check("dead letter", len(records) == 1, records)
record = records[0]
check("dead letter record",
      record["requestContext"]["approximateInvokeCount"] == 3
      and record["requestContext"]["condition"] == "RetriesExhausted"
      and record["requestPayload"] == {"fail": True, "v": 9}
      and "boom" in json.dumps(record["responsePayload"]), record)

check("publish version", client.publish_version(FunctionName=name)["Version"] == "1")

# As on Lambda, a sandbox of version 1 says 1 and one of $LATEST says $LATEST.
for qualifier, expected in [("1", "1"), ("$LATEST", "$LATEST"), (None, "$LATEST"), ("1", "1")]:
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    answer = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    body = json.loads(answer["Payload"].read())
    check(f"function version of {qualifier}", answer["ExecutedVersion"] == expected and body["fv"] == expected,
          (answer["ExecutedVersion"], body))

# A code change under --watch becomes version 2.
with open(source, "w") as f:
    f.write(v2_code)
deadline = time.time() + 120
versions = []
while time.time() < deadline and "2" not in versions:
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
    time.sleep(0.2)
check("watch made version 2", versions == ["$LATEST", "1", "2"], versions)
body = json.loads(client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
check("$LATEST is version 2", body["version"] == 2 and body["fv"] == "$LATEST", body)
answer = client.invoke(FunctionName=name, Qualifier="2", Payload=b"{}")
body = json.loads(answer["Payload"].read())
check("version 2 says 2", body["version"] == 2 and body["fv"] == "2" == answer["ExecutedVersion"], body)

# An alias with 30 % of its traffic on version 2: 1,000 calls split within a few percent.
client.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
counts = {"1": 0, "2": 0}
for _ in range(1000):
    answer = client.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    check_version = answer["ExecutedVersion"]
    assert str(body["version"]) == check_version == body["fv"], (body, check_version)
    counts[check_version] += 1
check("weighted routing", 250 <= counts["2"] <= 350, counts)

# The AWS CLI: update the alias to version 2 alone, list aliases, invoke it.
env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
aws = os.path.join(os.path.dirname(sys.executable), "aws")


def cli(*args):
    out = subprocess.run([aws, "--endpoint-url", endpoint, "--output", "json", "lambda", *args],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


cli("update-alias", "--function-name", name, "--name", "live", "--function-version", "2",
    "--routing-config", "{}")
aliases = json.loads(cli("list-aliases", "--function-name", name))["Aliases"]
check("cli list-aliases", [(a["Name"], a["FunctionVersion"], a.get("RoutingConfig")) for a in aliases]
      == [("live", "2", None)], aliases)
out_file = dead_letter + ".out.json"
meta = json.loads(cli("invoke", "--function-name", name, "--qualifier", "live",
                      "--payload", '{"v": 3}', out_file))
check("cli invoke", meta["ExecutedVersion"] == "2"
      and json.load(open(out_file)) == {"version": 2, "v": 3, "fv": "2"}, meta)
print("all ok")

"""The rules an SNS message must pass before SES's report in it is read: where its
certificate may come from, the canonical string signed, and what in SES's JSON is a
bounce."""

from __future__ import annotations

import json

import pytest

from agentid.errors import ValidationFailed
from agentid.providers.mail.ses_events import Trust
from agentid.providers.mail.ses_events import canonical
from agentid.providers.mail.ses_events import ses_bounces
from agentid.providers.mail.ses_events import topics
from tests.providers.mail.sns_server import bounce


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.eu-central-2.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-east-1.amazonaws.com:443/x.pem", True),
        ("http://sns.us-east-1.amazonaws.com/x.pem", False),  # https only
        ("https://sns.us-east-1.amazonaws.com:8443/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com.evil.example/x.pem", False),
        ("https://evil.example/sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.amazonaws.com/x.pem", False),
        ("https://s3.us-east-1.amazonaws.com/x.pem", False),
        ("https://user@sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com@evil.example/x.pem", False),
        ("https://127.0.0.1/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com:99999/x.pem", False),
        ("not a url", False),
    ],
)
def test_certificates_come_from_sns_over_https(url: str, trusted: bool) -> None:
    assert Trust().allows(url) is trusted


def test_a_local_relay_trusts_its_own_host_only() -> None:
    local = Trust(local="127.0.0.1")
    assert local.allows("http://127.0.0.1:9000/c.pem") and local.allows("https://127.0.0.1/c")
    assert not local.allows("http://localhost:9000/c.pem")
    assert not local.allows("https://sns.us-east-1.amazonaws.com/c.pem")
    assert not local.allows("ftp://127.0.0.1/c.pem")


def test_the_canonical_strings_follow_the_documented_order() -> None:
    notification = {
        "Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "hi",
        "Timestamp": "2024-01-01T00:00:00.000Z", "SignatureVersion": "1", "Subject": "s",
    }  # fmt: skip
    assert canonical(notification) == (
        b"Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\n2024-01-01T00:00:00.000Z\n"
        b"TopicArn\nt\nType\nNotification\n"
    )
    del notification["Subject"]  # absent: not in the string at all
    assert b"Subject" not in (canonical(notification) or b"")
    confirmation = notification | {
        "Type": "SubscriptionConfirmation", "SubscribeURL": "u", "Token": "k",
    }  # fmt: skip
    assert canonical(confirmation) == (
        b"Message\nhi\nMessageId\nm\nSubscribeURL\nu\nTimestamp\n2024-01-01T00:00:00.000Z\n"
        b"Token\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n"
    )
    del confirmation["Token"]
    assert canonical(confirmation) is None


def test_only_permanent_bounces_are_bounces() -> None:
    (found,) = ses_bounces(bounce("ses-id-1", "Gone <gone@vendor.example>"))
    assert (found.address, found.provider_message_id) == ("gone@vendor.example", "ses-id-1")
    assert "5.1.1" in found.reason and found.reason.startswith("ses bounce: General")
    assert ses_bounces(bounce("ses-id-1", "a@vendor.example", kind="Transient")) == []
    assert ses_bounces(bounce("ses-id-1", "a@vendor.example", kind="Undetermined")) == []
    event = json.loads(bounce("ses-id-2", "b@vendor.example"))
    event["eventType"] = event.pop("notificationType")  # event publishing says it so
    assert [b.address for b in ses_bounces(json.dumps(event))] == ["b@vendor.example"]
    complaint = {"notificationType": "Complaint", "mail": {"messageId": "x"}, "complaint": {}}
    assert ses_bounces(json.dumps(complaint)) == []  # nobody complained
    delivery = {"notificationType": "Delivery", "mail": {"messageId": "x"}, "delivery": {}}
    assert ses_bounces(json.dumps(delivery)) == []
    with pytest.raises(ValidationFailed):
        ses_bounces("{not json")


def test_complaints_suppress_unless_the_feedback_says_not_spam() -> None:
    """SES's Complaint: ``complainedRecipients`` marked the message as spam."""
    complaint = {
        "notificationType": "Complaint",
        "mail": {"messageId": "ses-id-3"},
        "complaint": {
            "complainedRecipients": [{"emailAddress": "Angry <angry@vendor.example>"}, {}],
            "complaintFeedbackType": "abuse",
        },
    }
    (found,) = ses_bounces(json.dumps(complaint))
    assert (found.address, found.provider_message_id) == ("angry@vendor.example", "ses-id-3")
    assert found.complaint and found.reason == "ses complaint: abuse"
    del complaint["complaint"]["complaintFeedbackType"]  # it is optional
    assert ses_bounces(json.dumps(complaint))[0].reason == "ses complaint: spam"
    complaint["complaint"]["complaintFeedbackType"] = "not-spam"
    assert ses_bounces(json.dumps(complaint)) == []
    # not sent: the address was on the account's suppression list (a bounce, then)
    complaint["complaint"] |= {"complaintSubType": "OnAccountSuppressionList"}
    del complaint["complaint"]["complaintFeedbackType"]
    (unsent,) = ses_bounces(json.dumps(complaint))
    assert not unsent.complaint and unsent.reason == "ses complaint: OnAccountSuppressionList"
    (bounced,) = ses_bounces(bounce("ses-id-1", "gone@vendor.example"))
    assert not bounced.complaint


def test_topics_are_arns() -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
    assert topics(f"{arn}, {arn}2") == {arn, f"{arn}2"}
    for bad in ("", "ses-bounces", "arn:aws:sqs:us-east-1:123456789012:q"):
        with pytest.raises(ValidationFailed):
            topics(bad)

"""Words of the public pages in English and Korean, and the choice of language for a request.

Other public modules (hosted forms) add their own keys with `register`; a key missing in Korean
falls back to English, and a key missing everywhere shows as itself so a gap is visible, not fatal.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

LANGUAGES = ("en", "ko")
DEFAULT = "en"
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}

_CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "skip_to_content": "Skip to content",
        "language": "Language",
        "footer_note": "You receive this page because you are on our list.",
        # preference centre
        "prefs_title": "Your email and message preferences",
        "prefs_intro": "Choose what you hear from us, how often, and on which channel.",
        "prefs_for": "Preferences for {address}",
        "saved": "Your choices are saved.",
        "save": "Save my choices",
        "channel_email": "Email",
        "channel_sms": "Text messages (SMS)",
        "channel_push": "Push notifications",
        "channel_webhook": "Webhook",
        # the channel inside a sentence ("unsubscribe from all email")
        "channel_email_words": "email",
        "channel_sms_words": "text messages",
        "channel_push_words": "push notifications",
        "channel_webhook_words": "webhook messages",
        "topics_on": "Topics by {channel}",
        "no_topics": "There are no topics to choose on this channel.",
        "unsubscribe_all": "Unsubscribe from all {channel}",
        "unsubscribe_all_hint": "We will send you no marketing on this channel until you subscribe again.",
        "unsubscribed_all_now": "You are unsubscribed from all {channel}. Tick a topic to subscribe again.",
        "state_pending": "waiting for your confirmation",
        "frequency": "How often",
        "frequency_and_pause": "How often, and breaks",
        "frequency_hint": "At most this often, across all topics.",
        "frequency_as_it_happens": "As it happens",
        "frequency_daily": "At most daily",
        "frequency_weekly": "At most weekly",
        "frequency_monthly": "At most monthly",
        "pause": "Take a break",
        "pause_none": "Don't pause",
        "pause_keep": "Keep my pause until {date}",
        "pause_30": "Pause for 30 days",
        "pause_90": "Pause for 90 days",
        "paused_until": "Paused until {date}.",
        "your_data": "Your data",
        "download_data": "Download my data (JSON)",
        "download_data_hint": "Everything we hold about you, in one file.",
        # unsubscribe
        "unsub_title": "Unsubscribe",
        "unsub_question_topic": "Unsubscribe {name} ({address}) from {topic}?",
        "unsub_question_all": "Unsubscribe {name} ({address}) from all {channel}?",
        "unsub_button": "Unsubscribe",
        "unsub_done_title": "You are unsubscribed",
        "unsub_done_topic": "{address} will no longer receive {topic}.",
        "unsub_done_all": "{address} will no longer receive any {channel} from us.",
        "unsub_undo": "Changed your mind? Open your preference centre to subscribe again.",
        "manage_prefs": "Manage all my preferences",
        "one_click_done": "You are unsubscribed.",
        "someone": "You",
        "your_address": "your address",
        # confirmation
        "confirm_title": "Subscription confirmed",
        "confirm_done_topic": "Thank you: your subscription to {topic} is confirmed.",
        "confirm_done_all": "Thank you: your subscription is confirmed.",
        # errors
        "link_invalid_title": "This link does not work",
        "link_invalid_body": (
            "The link may have been changed or cut short when it was copied. "
            "Open it again from the message you received, or copy the whole address."
        ),
        "link_expired_title": "This link has expired",
        "link_expired_body": (
            "Links in our messages work for a limited time. "
            "Use the link in a more recent message from us, or sign up again."
        ),
        "link_gone_title": "This link no longer leads anywhere",
        "link_gone_body": "The data this link pointed to has been erased. There is nothing more to do.",
        "bad_input_title": "Something in the form is not right",
    },
    "ko": {
        "skip_to_content": "본문으로 건너뛰기",
        "language": "언어",
        "footer_note": "수신 목록에 등록되어 있어 이 페이지를 받으셨습니다.",
        "prefs_title": "이메일 및 메시지 수신 설정",
        "prefs_intro": "받고 싶은 소식과 빈도, 수신 채널을 선택하세요.",
        "prefs_for": "{address}의 수신 설정",
        "saved": "선택하신 내용이 저장되었습니다.",
        "save": "저장하기",
        "channel_email": "이메일",
        "channel_sms": "문자 메시지(SMS)",
        "channel_push": "푸시 알림",
        "channel_webhook": "웹훅",
        "channel_email_words": "이메일",
        "channel_sms_words": "문자 메시지",
        "channel_push_words": "푸시 알림",
        "channel_webhook_words": "웹훅 메시지",
        "topics_on": "{channel} 수신 주제",
        "no_topics": "이 채널에서 선택할 수 있는 주제가 없습니다.",
        "unsubscribe_all": "{channel} 전체 수신 거부",
        "unsubscribe_all_hint": "다시 구독하실 때까지 이 채널로 광고성 정보를 보내지 않습니다.",
        "unsubscribed_all_now": "{channel} 전체 수신을 거부하셨습니다. 다시 받으시려면 주제를 선택하세요.",
        "state_pending": "확인 대기 중",
        "frequency": "수신 빈도",
        "frequency_and_pause": "수신 빈도와 일시 중지",
        "frequency_hint": "모든 주제를 합쳐 최대 이 빈도로 보내드립니다.",
        "frequency_as_it_happens": "소식이 있을 때마다",
        "frequency_daily": "하루에 한 번 이하",
        "frequency_weekly": "일주일에 한 번 이하",
        "frequency_monthly": "한 달에 한 번 이하",
        "pause": "잠시 쉬기",
        "pause_none": "일시 중지하지 않음",
        "pause_keep": "{date}까지 일시 중지 유지",
        "pause_30": "30일 동안 일시 중지",
        "pause_90": "90일 동안 일시 중지",
        "paused_until": "{date}까지 일시 중지되었습니다.",
        "your_data": "내 정보",
        "download_data": "내 정보 내려받기(JSON)",
        "download_data_hint": "저희가 보관한 회원님의 모든 정보를 한 파일로 받습니다.",
        "unsub_title": "수신 거부",
        "unsub_question_topic": "{name}님({address})의 '{topic}' 수신을 거부하시겠습니까?",
        "unsub_question_all": "{name}님({address})의 {channel} 전체 수신을 거부하시겠습니까?",
        "unsub_button": "수신 거부",
        "unsub_done_title": "수신 거부되었습니다",
        "unsub_done_topic": "{address}(으)로 더 이상 '{topic}'을(를) 보내지 않습니다.",
        "unsub_done_all": "{address}(으)로 더 이상 {channel}을(를) 보내지 않습니다.",
        "unsub_undo": "마음이 바뀌셨나요? 수신 설정 페이지에서 다시 구독하실 수 있습니다.",
        "manage_prefs": "수신 설정 관리",
        "one_click_done": "수신 거부되었습니다.",
        "someone": "회원",
        "your_address": "회원님의 주소",
        "confirm_title": "구독이 확인되었습니다",
        "confirm_done_topic": "감사합니다. '{topic}' 구독이 확인되었습니다.",
        "confirm_done_all": "감사합니다. 구독이 확인되었습니다.",
        "link_invalid_title": "이 링크는 사용할 수 없습니다",
        "link_invalid_body": (
            "복사하는 과정에서 링크가 바뀌었거나 잘렸을 수 있습니다. "
            "받으신 메시지에서 링크를 다시 열거나 주소 전체를 복사해 주세요."
        ),
        "link_expired_title": "링크의 유효 기간이 지났습니다",
        "link_expired_body": (
            "메시지의 링크는 정해진 기간 동안만 사용할 수 있습니다. "
            "최근에 받으신 메시지의 링크를 사용하시거나 다시 신청해 주세요."
        ),
        "link_gone_title": "이 링크는 더 이상 연결되지 않습니다",
        "link_gone_body": "이 링크가 가리키던 정보는 삭제되었습니다. 더 하실 일은 없습니다.",
        "bad_input_title": "입력한 내용에 문제가 있습니다",
    },
}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add keys to the catalogue: {"en": {key: text}, "ko": {key: text}}."""
    for language, entries in messages.items():
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        _CATALOGUE[language].update(entries)


def translate(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang` (English when untranslated), with {placeholders} filled."""
    text = _CATALOGUE.get(lang, {}).get(key) or _CATALOGUE[DEFAULT].get(key) or key
    return text.format(**values) if values else text


def language_or_none(value: str | None) -> str | None:
    """`value` when it names a supported language (ko, ko-KR, EN...), else None."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def choose_language(request: Request) -> str:
    """?lang=en|ko when given, else the best supported language in Accept-Language, else English."""
    chosen = language_or_none(request.query_params.get("lang"))
    if chosen:
        return chosen
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


def from_accept_language(header: str) -> str | None:
    """The supported language the header ranks highest (RFC 9110 §12.5.4 q-values), or None."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        language = language_or_none(tag)
        if language is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        # Highest q wins; on a tie, the one listed first.
        candidate = (quality, -position, language)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None

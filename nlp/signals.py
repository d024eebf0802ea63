"""Cheap text signals in English and Korean: is it a question, spam, a complaint?

Rules, not models: they are fast, explainable and good enough to decide what reaches the queue;
the sentiment model and topic scores do the heavy lifting in `is_complaint`. Korean has no
spaces before particles, so Korean cues are matched as substrings, English ones on word edges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#\w+")

_QUESTION_MARK = re.compile(r"[?？]")
_EN_QUESTION_START = re.compile(
    r"(?:^|[.!\n]\s*)(?:@\w+\s+)*(how|what|why|when|where|which|who|whom|whose|can|could|would|will|shall|"
    r"should|do|does|did|is|are|was|were|have|has|any|anyone|anybody)\b[^.!\n]{3,}$",
    re.IGNORECASE | re.MULTILINE,
)
_KO_QUESTION = re.compile(
    r"(나요|까요|가요|는지|을까|ㄹ까|인가|습니까|ㅂ니까|니까\?|할까|되나|있나|없나|어떻게|언제|어디서|왜요|뭔가요|뭐죠|죠\?)"
)

_PROMO = re.compile(
    r"\b(free|giveaway|win|winner|discount|promo ?code|coupon code|click here|buy now|limited offer|"
    r"earn \$?\d+|make money|dm me|link in bio|onlyfans)\b",
    re.IGNORECASE,
)
_CRYPTO = re.compile(r"\b(crypto|bitcoin|btc|eth|ethereum|nft|airdrop|presale|usdt|forex|binance)\b", re.IGNORECASE)
_FOLLOW = re.compile(
    r"\b(f4f|follow ?for ?follow|follow ?back|followback|l4l|like ?for ?like|sub4sub)\b", re.IGNORECASE
)
_KO_SPAM = re.compile(r"(대출|카지노|토토|바카라|수익\s*보장|무료\s*쿠폰|맞팔|선팔|코인\s*리딩|재택\s*알바|고수익)")
_REPEATED = re.compile(r"(\S)\1{7,}")

_EN_COMPLAINT = re.compile(
    r"\b(not|no|never|nothing|nobody|no one|\w+n'?t|cannot|still|again|why|waiting|waited|wait|hold|"
    r"refund|charged|broken|wrong|missing|lost|late|delay(ed|s)?|cancel+(ed|ing)?|stuck|stranded|"
    r"rude|terrible|awful|worst|horrible|bad|poor|sucks?|hate|disappointed|disappointing|unacceptable|"
    r"ridiculous|frustrat\w*|annoy\w*|angry|upset|ugh|seriously|complain(t|ing)?|fix|help|useless|"
    r"fail(ed|s|ure)?|problem|issue|hours?)\b",
    re.IGNORECASE,
)
_KO_COMPLAINT = re.compile(
    r"(안\s?돼|안\s?되|안\s?와|안\s?왔|안\s?옴|늦|불친절|최악|환불|짜증|실망|문제|고장|오류|에러|먹통|"
    r"잘못|틀렸|누락|분실|취소|빠졌|안\s?나|별로|엉망|불만|왜\s?이래|답답|화나|어이없|"
    r"사라졌|없어졌|안\s?뜨|안\s?떠|꺼져|꺼지|속상|불편|한숨|차갑|식어|눅눅|비싸|두\s?번\s?결제|못\s?받|이물질|부족|달라요|더\s?결제|결제됐|"
    r"멈춰|멈췄|튕겨|튕김|강제\s?종료|종료돼|흰\s?화면|만료|시큼|밍밍|미지근|탄\s?맛|냄새|닫혀|더러|쏟아|끈적|"
    r"어이가\s?없|소용이?\s?없|쓸모가?\s?없|해지했는데|결제가\s?됐|"
    # "안 열려요", "못 하겠어요": the negation words standing alone before a verb
    r"(?<![가-힣])안\s(?=[가-힣])|(?<![가-힣])못\s(?=[가-힣]))"
)

# English stock phrases that say there is no problem: their "no", "problem" or "complaint" is no
# complaint cue ("No complaints here, the delivery was on time" was queued as a negative complaint).
_EN_NO_PROBLEM = re.compile(
    r"\b(?:no (?:complaints?|problems?|issues?|worries)|nothing (?:wrong|to complain about)|can'?t complain|"
    r"never (?:had )?(?:a |an |any )?(?:problems?|issues?|complaints?))\b",
    re.IGNORECASE,
)

# What makes a Korean complaint word say the opposite, read just after it: the problem is absent
# ("문제없이", "불편함 없이", "늦지 않고", "비싸지 않아요"), or it was put right ("문제를 해결해
# 줬어요", "환불도 빠르게 처리해 주셨어요", "오류 고쳐 주셔서"). Shop and product reviews say this
# all the time in praise; read as complaints, they went to the queue as negative. "별로 없" is left
# out: "hardly any" is a complaint ("볼거리도 별로 없는"). A promise ("해결해 준다더니") is no fix.
_KO_ABSENT = re.compile(
    r"(?:함|한\s?점|한\s?곳|한\s?거)?(?:이|가|은|는|도)?\s*(?:(?:전혀|하나도|아무런?|딱히)\s*)?없"
    r"|(?:하|나|스럽|해)?지\s?(?:는|도|가)?\s?않"
)
_KO_PUT_RIGHT = re.compile(
    r"(?:을|를|이|가|은|는|도)?\s*(?:(?:문제|오류|에러|건|요청)(?:을|를|이|가|은|는|도)?\s*)?"  # "환불 문제 …"
    r"(?:(?:빨리|바로|금방|잘|깔끔하게|신속하게|친절하게|빠르게)\s*)?"
    r"(?:(?:해결|처리|수리|복구|해소)(?:해\s?(?:주셨|주셔서|줬|주어서|줘서|주었|주심)|됐|되었|했어|했습|돼서|되어서|완료)"
    r"|고쳐\s?(?:주셨|주셔서|줬|줘서|주었|졌))"
)
# Words whose absence is no praise, so only a fix after them ("환불 처리해 주셨어요") turns them
# around: a refund not given is the complaint ("환불도 없고", "환불하지 않았어요"), and "제 잘못은
# 없는데" (not my fault) argues about blame.
_KO_ABSENCE_NO_PRAISE = ("환불", "잘못")
# Complaint adjectives that "안" before them turns around: "안 비싸요", "하나도 안 늦었어요".
_KO_ADJECTIVE = ("비싸", "늦", "불편", "더러")
_KO_NOT_BEFORE = re.compile(r"(?:^|[^가-힣])안\s?$")

# Spam cues needed before a post is called spam; one cue alone (a link and "free") is too weak.
SPAM_MIN_CUES = 2
# Negative probability from which a post with a complaint cue or topic counts as a complaint.
COMPLAINT_NEGATIVE = 0.5
# A topic named in complaint wording is a complaint unless the post is clearly praise.
COMPLAINT_MAX_POSITIVE = 0.75


def is_question(text: str) -> bool:
    """True when the post asks something: a question mark, an English question opener, a Korean ending."""
    body = _URL.sub(" ", text or "")
    if _QUESTION_MARK.search(body):
        return True
    return bool(_EN_QUESTION_START.search(body) or _KO_QUESTION.search(body))


def spam_cues(text: str) -> list[str]:
    """The spam cues found in the text, named (for explanations and tests)."""
    text = text or ""
    urls = len(_URL.findall(text))
    cues: list[str] = []
    if urls:
        cues.append("link")
    if urls >= 3:
        cues.append("many links")
    if _PROMO.search(text):
        cues.append("promotion")
    if _CRYPTO.search(text):
        cues.append("crypto")
    if _FOLLOW.search(text):
        cues.append("follow-for-follow")
    if _KO_SPAM.search(text):
        cues.append("korean spam words")
    if _REPEATED.search(text):
        cues.append("repeated characters")
    if len(_HASHTAG.findall(text)) >= 6:
        cues.append("many hashtags")
    if len(_MENTION.findall(text)) >= 6:
        cues.append("many mentions")
    return cues


def is_spam(text: str) -> bool:
    """True when at least SPAM_MIN_CUES spam cues occur (follow-for-follow alone is enough)."""
    cues = spam_cues(text)
    return len(cues) >= SPAM_MIN_CUES or "follow-for-follow" in cues


def has_complaint_cue(text: str) -> bool:
    """True when the text uses complaint wording in English or Korean."""
    text = text or ""
    return _has_english_complaint_cue(text) or has_korean_complaint_cue(text)


def _has_english_complaint_cue(text: str) -> bool:
    return bool(_EN_COMPLAINT.search(_EN_NO_PROBLEM.sub(" ", text)))


def has_korean_complaint_cue(text: str) -> bool:
    """True when a Korean complaint word is used as one: not denied ("문제없이", "안 비싸요") and
    not followed by the fix ("문제를 해결해 줬어요")."""
    for match in _KO_COMPLAINT.finditer(text):
        word, end = match.group(), match.end()
        if word == "별로":
            return True
        if word.startswith("안") and text.startswith(_KO_ADJECTIVE, end):
            continue  # the lone "안 " of "안 비싸요": the adjective after it is read on its own
        before = text[max(0, match.start() - 3) : match.start()]
        denied = word not in _KO_ABSENCE_NO_PRAISE and (
            _KO_ABSENT.match(text, end) or (word.startswith(_KO_ADJECTIVE) and _KO_NOT_BEFORE.search(before))
        )
        put_right = word != "취소" and _KO_PUT_RIGHT.match(text, end)  # "취소 처리됐어요" is the cancellation done
        if not (denied or put_right):
            return True
    return False


def reads_as_complaint(text: str, sentiment_probs: Mapping[str, float], topics: Mapping[str, float]) -> bool:
    """A post about a problem: negative with complaint wording or a complaint topic, or a complaint
    topic named in complaint wording while not positive. Spam is never a complaint: the caller
    (`nlp.intent.decide`) has ruled it out first, with `is_spam` read once a post by the analyzer.

    The second path matters because sentiment models trained on reviews and tweets read calm,
    factual complaints ("my stamps disappeared") as neutral.
    """
    negative = sentiment_probs.get("negative", 0.0)
    text = text or ""
    # Korean complaint words are specific enough to stand alone (the English list has "still", "again").
    korean_cue = has_korean_complaint_cue(text)
    cue = korean_cue or _has_english_complaint_cue(text)
    if negative >= COMPLAINT_NEGATIVE:
        return bool(topics) or cue
    most_likely = max(sentiment_probs, key=lambda label: sentiment_probs[label]) if sentiment_probs else "neutral"
    confidently_positive = sentiment_probs.get("positive", 0.0) >= COMPLAINT_MAX_POSITIVE
    return (
        (bool(topics) and cue and not confidently_positive)
        or (most_likely == "negative" and cue)
        or (korean_cue and not confidently_positive)
    )

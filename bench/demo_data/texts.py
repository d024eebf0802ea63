"""The demo's authored text: complaints per topic, praise, questions, chatter, spam, brand posts.

All of it was written for this project about the fictional brand Maru Coffee (마루커피).
`{brand}` is replaced per platform ("@marucoffee" on X, "Maru Coffee" elsewhere, "마루커피" in
Korean). Each complaint names one topic only and reads clearly negative; praise reads clearly
positive; chatter is factual. Complaint and question cores are all different from each other, so
that only the intended copy-paste campaign forms near-duplicates.
"""

from __future__ import annotations

COMPLAINTS: dict[str, dict[str, list[str]]] = {
    "delivery": {
        "en": [
            "Ordered two flat whites through {brand} delivery at 8:10 and they showed up at 9:40. Both cold. "
            "Ninety minutes for coffee is not delivery.",
            "{brand} delivery marked my order as delivered but nothing ever reached my door. "
            "The driver's photo shows a building I don't live in.",
            "Third time this month my {brand} delivery arrived with half the order missing. "
            "The driver just handed over a soggy bag and left.",
            "The courier left my {brand} order at the wrong apartment and I had to knock on doors to find it. "
            "The coffee had spilled all over the bag.",
            "Waited over an hour for a {brand} delivery that the tracker said was five minutes away the whole time. "
            "Then it was cancelled without a word.",
            "My {brand} delivery came with cracked lids and half the cold brew leaked into the box. "
            "Really frustrating start to the day.",
            "Booked a {brand} office delivery for 10am for our team meeting and it arrived at noon, "
            "after the meeting was over. Completely late.",
        ],
        "ko": [
            "{brand} 배달 시켰는데 한 시간 반 만에 왔어요. 아메리카노가 완전히 식어서 왔네요. 너무 늦어요.",
            "{brand} 배달 완료라고 뜨는데 커피를 받은 적이 없어요. 주문한 커피가 안 왔어요.",
            "{brand} 배달 기사님이 다른 동 현관에 두고 가셨어요. 한참 찾아다녔고 라떼는 다 쏟아져 있었어요.",
            "{brand} 배달 주문했는데 케이크는 빠지고 음료만 왔어요. 빠진 메뉴 확인도 안 하고 보내나요.",
            "오늘 {brand} 배달이 40분 지연된다고 하더니 결국 취소됐어요. 점심시간 다 날렸네요.",
            "{brand} 배달 음료 뚜껑이 깨져서 봉투 안이 콜드브루로 흥건했어요. 포장 좀 제대로 해 주세요.",
            "회사로 {brand} 단체 배달을 10시로 예약했는데 12시에 도착했어요. 회의 끝나고 와서 소용이 없었어요.",
        ],
    },
    "billing": {
        "en": [
            "{brand} charged my card twice for one oat latte this morning. "
            "Two identical payments on my statement and no reply from support.",
            "Still waiting for my {brand} refund for a cancelled order from two weeks ago. "
            "The receipt says refunded, my bank says nothing arrived.",
            "The {brand} menu board said 5,800 won and my card was charged 7,300. Nobody can explain the difference.",
            "My card payment failed at {brand}, so I paid again, and now both payments went through. "
            "I want my money back.",
            "{brand} keeps charging me for the bean subscription I cancelled last month. "
            "I even got a cancellation confirmation email.",
            "Got charged for a large when I ordered a regular at {brand}, and the receipt says large. "
            "Overcharged and no refund offered.",
            "My {brand} gift card balance dropped by 20,000 won without any purchase. Where did my money go?",
        ],
        "ko": [
            "{brand}에서 결제가 두 번 됐어요. 카드 내역에 같은 금액이 두 번 찍혀 있는데 고객센터는 연락이 없어요.",
            "{brand} 주문 취소한 지 2주가 넘었는데 환불이 아직 안 들어왔어요. 환불 언제 되나요.",
            "{brand} 메뉴판 가격이랑 실제 결제 금액이 달라요. 1,500원이 더 결제됐어요.",
            "{brand} 원두 정기구독 해지했는데 이번 달에도 결제가 됐어요. 해지 확인 메일까지 받았는데 어이가 없네요.",
            "{brand} 카드 결제 실패라고 해서 다시 결제했더니 돈이 두 번 빠져나갔어요. 환불해 주세요.",
            "{brand} 기프트카드 잔액이 쓰지도 않았는데 2만 원이 줄었어요. 결제 내역 확인 부탁드립니다.",
            "{brand}에서 톨 사이즈를 주문했는데 벤티 가격으로 결제됐어요. 영수증에도 벤티로 찍혀 있어요.",
        ],
    },
    "app": {
        "en": [
            "The {brand} app logs me out every time I switch screens, and I can't log in again "
            "without resetting my password.",
            "The {brand} app checkout button does nothing. Tapped it ten times, no order, no error.",
            "The {brand} app shows an error on every screen and won't let me order. The website has the same bug.",
            "Since yesterday the {brand} website shows a blank page after login. Tried two browsers, same thing.",
            "The {brand} app froze on the order screen and then logged me out. Now the app won't open at all.",
            "Can't add anything to the cart in the {brand} app, it spins forever and then says 'unknown error'.",
            "The {brand} app login code never arrives by SMS, so I can't log in at all.",
        ],
        "ko": [
            "{brand} 앱 로그인이 안 돼요. 비밀번호 재설정을 해도 계속 오류가 나요.",
            "{brand} 앱에서 주문하기 버튼을 눌러도 아무 반응이 없어요.",
            "{brand} 앱이 장바구니 화면에서 계속 멈춰요. 몇 번을 껐다 켜도 똑같아요.",
            "{brand} 홈페이지에서 로그인하면 빈 화면만 나와요. 웹사이트 오류 좀 고쳐 주세요.",
            "{brand} 앱 인증번호 문자가 안 와서 회원가입을 못 하고 있어요.",
            "{brand} 앱에서 매장 선택이 안 돼요. 지도에 매장이 하나도 안 뜨네요.",
            "{brand} 앱 주문 내역이 전부 사라졌어요. 앱 오류인지 아무것도 안 보여요.",
        ],
    },
    "quality": {
        "en": [
            "My {brand} latte today was lukewarm and so bitter I couldn't finish it. "
            "Tasted like it sat on the machine for ages.",
            "The {brand} Ethiopia beans I bought tasted stale and flat. The roast date on the bag was two months ago.",
            "Ordered an oat milk cappuccino at {brand} and got regular milk. I'm lactose intolerant, "
            "so getting my drink wrong is a real problem.",
            "Found a hair in my {brand} croissant this afternoon. The food quality has really gone downhill.",
            "The {brand} cold brew tasted sour and watery today, nothing like it usually does.",
            "The {brand} iced americano was mostly ice and tasted burnt. Paid for coffee, got bitter water.",
            "The {brand} sandwich I bought was soggy and the cheese smelled off. Threw it away after one bite.",
        ],
        "ko": [
            "오늘 {brand} 라떼가 너무 미지근하고 써서 다 못 마셨어요.",
            "{brand}에서 산 원두가 너무 오래된 맛이 나요. 로스팅 날짜가 두 달 전이에요.",
            "{brand} 음료에서 이물질이 나왔어요. 플라스틱 조각 같은 게 떠 있었어요.",
            "{brand} 콜드브루가 오늘따라 시큼하고 물 탄 것처럼 밍밍해요.",
            "{brand}에서 디카페인으로 주문했는데 일반 커피가 나왔어요. 음료가 잘못 나와서 밤새 잠을 못 잤어요.",
            "{brand} 샌드위치 빵이 눅눅하고 치즈에서 이상한 냄새가 났어요.",
            "{brand} 아이스 아메리카노가 탄 맛이 너무 심해요. 커피가 너무 써요.",
        ],
    },
    "store": {
        "en": [
            "The barista at the {brand} Gangnam store rolled her eyes when I asked for less ice "
            "and was rude the whole time.",
            "Waited 35 minutes in line at {brand} Hongdae this morning with only one person working the counter.",
            "The {brand} store near City Hall was dirty today: sticky tables, overflowing bins, milk on the floor.",
            "{brand} Myeongdong opened 40 minutes late with no notice on the door. Stood outside in the cold.",
            "Staff at the {brand} Itaewon store ignored me for ten minutes while chatting behind the counter.",
            "The restroom at {brand} Yeouido has been out of order for weeks and the staff just shrug.",
            "The manager at {brand} Pangyo was rude to me for sitting with my laptop and told me to leave "
            "after 30 minutes.",
        ],
        "ko": [
            "{brand} 강남점 직원이 너무 불친절해요. 얼음 적게 달라고 했더니 한숨을 쉬더라고요.",
            "{brand} 홍대점 아침에 줄이 30분이었어요. 계산대에 직원이 한 명뿐이에요.",
            "{brand} 시청점 매장이 너무 더러워요. 테이블은 끈적하고 쓰레기통은 넘쳐 있었어요.",
            "{brand} 명동점 오픈 시간이 지났는데 문이 닫혀 있었어요. 안내문도 없었고요.",
            "{brand} 잠실점 직원분들이 수다 떠느라 주문을 10분 동안 안 받으셨어요.",
            "{brand} 여의도점 화장실이 몇 주째 고장인데 아무도 신경을 안 써요.",
            "{brand} 판교점 매니저가 노트북 쓰는 손님한테 나가라고 해서 기분이 너무 상했어요.",
        ],
    },
    "loyalty": {
        "en": [
            "All 9 of my {brand} stamps disappeared from my card overnight. One more and I'd have had a free drink.",
            "The {brand} birthday coupon code doesn't work. It says 'invalid coupon' at every store I try.",
            "Bought three drinks at {brand} today and no points were added to my membership.",
            "My {brand} gold membership got downgraded to standard even though I spent way over the limit this year.",
            "{brand} won't merge the stamps from my old account into my new one. Years of stamps gone.",
            "The {brand} 1+1 coupon in my wallet expired a day after I got it. What a useless coupon.",
            "Scanned my {brand} membership card twice today and the stamps still aren't there.",
        ],
        "ko": [
            "{brand} 스탬프가 적립이 안 됐어요. 오늘만 세 잔 샀는데 하나도 안 찍혔어요.",
            "{brand} 생일 쿠폰이 안 먹혀요. 매장에서 사용할 수 없는 쿠폰이라고 해요.",
            "{brand}에서 모아둔 스탬프 9개가 하루아침에 사라졌어요.",
            "{brand} 포인트 적립이 2주째 누락되고 있어요. 영수증도 다 있는데요.",
            "{brand} 골드 등급이었는데 갑자기 일반 등급으로 내려갔어요. 멤버십 혜택이 다 사라졌네요.",
            "{brand} 1+1 쿠폰을 받았는데 다음 날 바로 만료 처리됐어요. 쿠폰이 아무 쓸모가 없네요.",
            "{brand} 예전 계정 스탬프를 새 계정으로 옮길 수 없대요. 몇 년 모은 스탬프가 날아갔어요.",
        ],
    },
}

QUESTIONS: dict[str, list[str]] = {
    "en": [
        "Does the {brand} Gangnam store open on Sundays?",
        "Is there a {brand} store near Busan station? Visiting next week.",
        "Can I use my {brand} stamps for beans from the online shop?",
        "Does {brand} deliver to Bundang on weekends?",
        "Does {brand} have a decaf option for the cold brew?",
        "How do I change the email address on my {brand} account?",
        "Which oat milk does {brand} use for its lattes? Asking because of allergies.",
        "When does the {brand} holiday blend go on sale this year?",
        "Can I order {brand} beans as a gift and ship them to another address?",
        "Does {brand} offer a student discount anywhere?",
        "Is the {brand} membership the same in Korea and Singapore?",
        "What grind size does {brand} recommend for the Colombia beans in a moka pot?",
        "Does the {brand} Itaewon store have power outlets for laptops?",
        "Can I bring my own tumbler to {brand} and get a discount?",
        "Is {brand} open on Christmas Day?",
        "How long does shipping from the {brand} online shop usually take to Jeju?",
    ],
    "ko": [
        "{brand} 강남점 일요일에도 영업하나요?",
        "{brand}에 텀블러 가져가면 할인되나요?",
        "{brand} 원두 선물 포장 되나요?",
        "{brand} 스탬프로 온라인몰 원두도 살 수 있나요?",
        "{brand}에 디카페인 콜드브루 있나요?",
        "{brand} 제주도 배송은 보통 며칠 걸리나요?",
        "{brand} 계정 이메일 주소 변경은 어디서 하나요?",
        "{brand} 판교점 주차 가능한가요?",
        "{brand} 크리스마스에도 문 여나요?",
        "{brand} 단체 주문은 며칠 전에 예약해야 하나요?",
        "{brand} 귀리 우유 추가 금액이 얼마인가요?",
        "{brand} 홀리데이 블렌드는 언제 출시되나요?",
        "{brand} 부산에도 매장이 있나요?",
        "{brand} 멤버십 골드 등급 기준이 어떻게 되나요?",
    ],
}

PRAISE: dict[str, list[str]] = {
    "en": [
        "the {brand} Ethiopia pour-over today was bright and fruity, easily the best cup I've had this month.",
        "the barista at {brand} Hongdae remembered my order and my name. Small thing, made my morning.",
        "{brand} delivery arrived in 15 minutes and the latte was still piping hot.",
        "the new {brand} hojicha latte is wonderful, not too sweet at all.",
        "the {brand} beans arrived two days after roasting. So fresh and delicious.",
        "{brand} support fixed my problem within an hour after I messaged them. Great service.",
        "love the quiet second floor at {brand} Seochon, the perfect spot to read.",
        "the {brand} almond croissant is flaky and buttery, perfect with an americano.",
        "{brand} cold brew is smooth and chocolatey, my favourite drink all year round.",
        "got a free drink with my tenth {brand} stamp today, love this loyalty card.",
        "the staff at {brand} Pangyo are so friendly, always a great vibe.",
        "ordering ahead with {brand} is so easy, my drink was ready when I walked in.",
        "the {brand} holiday blend is back and it's delicious.",
        "the {brand} decaf actually tastes like great coffee. Love it.",
        "the {brand} Jamsil store is spotless and bright, a lovely place to work.",
        "a perfect flat white at {brand} today, beautiful silky milk.",
        "the {brand} bean subscription box is beautiful and the coffee is excellent.",
        "the {brand} team replaced my spilled drink without me even asking. So kind!",
    ],
    "ko": [
        "{brand} 에티오피아 핸드드립 향이 정말 좋아요.",
        "{brand} 홍대점 바리스타님이 제 주문을 기억해 주셨어요. 감동이에요.",
        "{brand} 배달이 15분 만에 왔는데 라떼가 아직 따뜻했어요.",
        "{brand} 신메뉴 호지차 라떼 너무 맛있어요. 달지 않아서 좋아요.",
        "{brand} 원두가 로스팅 이틀 만에 도착했어요. 정말 신선하고 맛있어요.",
        "{brand} 서촌점 2층이 조용해서 책 읽기 최고예요.",
        "{brand} 아몬드 크루아상 진짜 맛있어요.",
        "{brand} 콜드브루 부드럽고 고소해요. 제 최애 음료예요.",
        "{brand} 스탬프 열 개 모아서 무료 음료 받았어요. 기분 좋네요.",
        "{brand} 판교점 직원분들 너무 친절하세요.",
        "{brand} 미리 주문하니까 도착하자마자 음료가 딱 나와 있었어요. 너무 편해요.",
        "{brand} 홀리데이 블렌드 올해도 맛있어요.",
        "{brand} 디카페인인데도 맛이 진하고 좋아요.",
        "{brand} 잠실점 깨끗하고 밝아서 작업하기 좋아요.",
        "{brand} 플랫화이트 우유 거품이 완벽했어요.",
        "{brand} 고객센터가 한 시간 만에 문제를 해결해 줬어요. 감사합니다.",
    ],
}
PRAISE_OPENERS = {"en": ["", "Honestly, ", "Have to say, ", "Small joy: ", "Happy to report ", "Okay, "], "ko": [""]}
PRAISE_TAILS = {
    "en": ["", " ☕", " 10/10.", " Will be back.", " Thank you!", " Highly recommend.", " 😊"],
    "ko": ["", " 최고예요!", " 강추합니다.", " 또 갈게요.", " ☕", " 😊", " 추천해요."],
}

CHATTER: dict[str, list[str]] = {
    "en": [
        "Working from {brand} in Yeonnam today.",
        "{brand} is opening a new store in Seongsu next month, according to the sign on the window.",
        "Picked up a bag of {brand} Colombia beans for the office.",
        "Meeting a friend at the {brand} near the station at 3.",
        "{brand} has a seasonal chestnut latte on the menu now.",
        "Reading about how {brand} sources its beans from smallholder farms in Huila.",
        "{brand} switched to paper straws at the Gwanghwamun store.",
        "First time at {brand}. Ordered a regular americano.",
        "The {brand} branch in Singapore has a different menu from Seoul.",
        "Morning routine: walk the dog, {brand} americano, emails.",
        "{brand} is running a latte art workshop at the Seongsu store on Saturday.",
        "Spotted the {brand} coffee truck at the Han river park.",
        "Writing my thesis at {brand} Sinchon again.",
        "{brand} now prints the roast date on every bag of beans.",
        "Coffee break at {brand} between meetings.",
        "{brand} posted its store hours for the holidays.",
        "The {brand} near my office moved to the building across the street.",
    ],
    "ko": [
        "오늘은 {brand} 연남점에서 작업 중.",
        "{brand} 성수점이 다음 달에 오픈한다고 하네요.",
        "사무실용으로 {brand} 콜롬비아 원두 한 봉지 샀어요.",
        "친구랑 3시에 역 앞 {brand}에서 만나기로 했어요.",
        "{brand} 시즌 메뉴로 밤 라떼가 나왔네요.",
        "{brand} 광화문점은 종이 빨대로 바뀌었어요.",
        "한강공원에 {brand} 커피 트럭이 나와 있어요.",
        "신촌 {brand}에서 오늘도 논문 쓰는 중.",
        "{brand} 원두 봉투에 로스팅 날짜가 표시되네요.",
        "회의 사이에 {brand}에서 커피 한 잔.",
        "{brand} 연말 영업시간 공지가 올라왔어요.",
        "회사 앞 {brand}이 길 건너 건물로 이전했어요.",
        "{brand} 성수점에서 토요일에 라떼아트 클래스를 한대요.",
        "아침 루틴: 산책, {brand} 아메리카노, 메일 확인.",
    ],
}
CHATTER_OPENERS = {"en": ["", "Today: ", "FYI ", "Note: "], "ko": ["", "오늘 일상: ", "메모: ", "참고로 "]}

SPAM: dict[str, list[str]] = {
    "en": [
        "🚀 Earn 500% with our crypto presale! {brand} fans join now http://bit.example.com/moon",
        "FREE {brand} gift cards for the first 1000 people!!! Click here: http://free-coupons.example.com/maru",
        "Follow for follow! {brand} lovers follow me and I follow back 💯 #f4f #followback",
        "Bitcoin airdrop live now, claim your BTC before it ends, {brand} fans get a bonus http://airdrop.example.com",
        "Best forex signals, 90% win rate, DM me now. #coffee {brand} http://signals.example.com",
        "Cheap followers and likes!! 10k followers for $5 {brand} http://growth.example.com",
        "{brand} NFT collection minting now!!! Limited presale, ETH only http://mint.example.com",
        "WIN WIN WIN!!!!!!!!!! free phone + {brand} vouchers http://win.example.com",
    ],
    "ko": [
        "{brand} 무료 쿠폰 받아가세요! 선착순 100명 http://coupon.example.kr",
        "재택 알바 고수익 보장! 하루 30분 {brand} 리뷰만 쓰면 됩니다 http://job.example.kr",
        "코인 리딩방 무료 입장 수익 보장! {brand} 커피값 벌기 http://coin.example.kr",
        "맞팔 환영합니다 {brand} 좋아하시는 분 선팔하면 맞팔 100%",
        "{brand} 기프티콘 무료 나눔 이벤트 ▶ http://gift.example.kr 지금 바로 클릭",
        "카지노 첫충 50% 보너스 {brand} 회원 특별 혜택 http://casino.example.kr",
    ],
}

# The copy-paste campaigns: one text each, posted by several accounts.
CAMPAIGNS = {
    "billing": (
        "en",
        "Maru Coffee charged me twice for the holiday blend pre-order and still hasn't refunded "
        "the second payment. #MaruRefundNow",
    ),
    "loyalty": (
        "ko",
        "마루커피 스탬프 10개 모았는데 쿠폰 전환은 안 되고 스탬프만 사라졌어요. 스탬프 돌려주세요 #마루스탬프",
    ),
}

# The burst: the app crashing after the 5.2 update (2026-11-20).
BURST: dict[str, list[str]] = {
    "en": [
        "Updated the {brand} app this morning and now it crashes the second I open it.",
        "{brand} app 5.2 crashes on launch on my iPhone 15. Can't order anything.",
        "The {brand} app closes itself as soon as I tap the stamp card after the update.",
        "Since the 5.2 update the {brand} app won't even get past the splash screen on Android.",
        "The {brand} app crashed mid-order and I had to order at the counter instead. Thanks, update.",
        "Great, the {brand} app update broke everything. It crashes on my Galaxy S24 every time I open it.",
        "Three crashes in five minutes. The new {brand} app is unusable.",
        "The {brand} app update made the app crash whenever I open the menu.",
        "Deleted and reinstalled the {brand} app after the update, it still crashes instantly.",
        "Hey {brand}, your new app version crashes on startup. My whole office can't order.",
        "The {brand} app just shows a white screen and then crashes since last night's update.",
        "Can't use mobile order because the {brand} app keeps crashing after the update. "
        "Standing in line like it's 2010.",
        "The {brand} app 5.2 crash on launch is driving me nuts, please roll it back.",
        "New {brand} app update = instant crash on my iPad.",
        "Every time I try to log in to the updated {brand} app it crashes.",
        "The {brand} app crashes when I open the store map after updating.",
        "The updated {brand} app crashes before I can even see my order history.",
        "{brand} please fix the app, it crashes right after the update on every phone in our house.",
        "The {brand} app update broke the app on my Pixel 8. Crash, crash, crash.",
        "My {brand} app crashed while I was trying to reorder my usual. Had to give up.",
        "The crashing {brand} app after today's update means no coffee for me this morning.",
        "Tried ordering ahead in the {brand} app, it crashed three times after the new update. Gave up.",
        "The {brand} app keeps crashing since the update, and the store staff say everyone is complaining.",
        "Worst app update ever. {brand} app crashes every single time on my phone now.",
    ],
    "ko": [
        "{brand} 앱 업데이트하고 나서 실행하자마자 꺼져요.",
        "{brand} 앱 5.2 업데이트 후에 계속 튕겨요. 주문을 못 하겠어요.",
        "{brand} 앱이 업데이트 후 시작 화면에서 멈추고 꺼져요.",
        "{brand} 앱 업데이트 이후로 스탬프 화면 누르면 앱이 꺼져요.",
        "아이폰에서 {brand} 앱이 업데이트 후 계속 강제 종료돼요.",
        "{brand} 앱 지웠다가 다시 깔았는데도 계속 꺼져요. 업데이트 오류 너무 심해요.",
        "갤럭시에서 {brand} 앱 업데이트 후 실행이 안 돼요.",
        "{brand} 앱이 켜지자마자 꺼져서 매장에서 줄 서서 주문했어요.",
        "{brand} 앱 업데이트 때문에 아침 주문 다 망했어요. 앱이 계속 꺼져요.",
        "{brand} 새 버전 앱에 로그인하면 바로 튕겨요.",
        "{brand} 앱이 업데이트 후 흰 화면만 나오다가 종료돼요.",
        "회사 사람들 다 {brand} 앱이 꺼진다고 난리예요. 업데이트 오류 빨리 고쳐 주세요.",
        "{brand} 앱 업데이트하고 메뉴 누르면 앱이 꺼져요.",
        "{brand} 앱 매장 지도 열면 바로 꺼져요. 업데이트 전엔 괜찮았는데요.",
        "{brand} 앱 주문 내역 보려고 하면 튕겨요. 업데이트 후부터 그래요.",
        "{brand} 앱 업데이트 롤백해 주세요. 실행이 아예 안 돼요.",
        "{brand} 앱이 주문 화면 가기도 전에 꺼져요. 업데이트 후 계속 이래요.",
        "태블릿에서도 {brand} 앱이 업데이트 후 안 열려요.",
        "{brand} 앱 5.2 버전 완전 먹통이에요. 계속 꺼져요.",
        "{brand} 앱 매일 쓰는데 오늘 업데이트 이후로 아예 못 쓰고 있어요. 실행하면 꺼져요.",
    ],
}

# Posts by the brand's own accounts (never queued).
OWN: dict[str, list[str]] = {
    "announce_en": [
        "The chestnut latte is back for winter at Maru Coffee. In every store and for delivery from today.",
        "Our Seongsu store opens on December 5th. See you there!",
        "Latte art workshop this Saturday at Maru Coffee Seongsu. Free for stamp card members.",
        "The holiday blend is here: dark chocolate, orange peel and a long sweet finish. In the online shop now.",
    ],
    "announce_ko": [
        "마루커피 홀리데이 블렌드가 돌아왔어요. 온라인몰과 전 매장에서 만나보세요.",
        "마루커피 성수점이 12월 5일에 문을 엽니다.",
    ],
    "update": [
        "Maru app 5.2 is rolling out today with a faster checkout and a new stamp card screen. "
        "Update from your app store."
    ],
    "apology_en": [
        "We know the Maru app 5.2 update is crashing on launch for some of you. A fix (5.2.1) is on its "
        "way; ordering at the counter works as usual. We're sorry! 🙏"
    ],
    "apology_ko": [
        "마루커피 앱 5.2 업데이트 후 실행이 안 되는 문제를 확인했습니다. 5.2.1 수정 버전을 곧 배포합니다. "
        "불편을 드려 죄송합니다."
    ],
    "reply_en": [
        "@{user} We're sorry about this. Please send us a DM with your order details and we'll sort it out today.",
        "@{user} Thanks for letting us know, and sorry. Our team is looking into it now and will DM you.",
        "@{user} Sorry for the trouble! We've passed this on to the store manager and will follow up by DM.",
    ],
    "reply_ko": ["@{user} 불편을 드려 죄송합니다. DM으로 주문 정보를 보내 주시면 바로 확인하겠습니다."],
}

# Quote posts: (quoted kind, topic or None, language, text).
QUOTES = [
    (
        "complaint",
        "delivery",
        "en",
        "Same thing happened to my {brand} order last week, the driver left it at the wrong building.",
    ),
    ("complaint", "loyalty", "en", "My {brand} stamps vanished too. Ten stamps gone from the card."),
    ("praise", None, "en", "Agree, the {brand} hojicha latte is the best thing on the menu. Delicious."),
    ("own", None, "en", "Finally! The {brand} chestnut latte is the reason I love winter."),
    ("complaint", "store", "ko", "저도 {brand} 홍대점에서 30분 넘게 줄 섰어요. 직원이 너무 부족해요."),
]

# RSS blog posts: (language, kind, topic, title, description).
RSS_EN = [
    (
        "praise",
        None,
        "A slow morning at Maru Coffee Seochon",
        "The second floor at Maru Coffee Seochon is the calmest room in the neighbourhood. The Ethiopia pour-over "
        "was bright and floral, and the almond croissant was excellent. I loved it.",
    ),
    (
        "praise",
        None,
        "Maru Coffee holiday blend: first impressions",
        "Maru Coffee's holiday blend is back and it is wonderful: cocoa, orange peel and a sweet finish. "
        "A delicious cup through a V60.",
    ),
    (
        "chatter",
        None,
        "Cafes for working in Seongsu",
        "A list of cafes with outlets and long tables in Seongsu, including the upcoming Maru Coffee store, "
        "a bakery on Yeonmujang-gil and two places near the station.",
    ),
    (
        "chatter",
        None,
        "Reading the roast date labels on Maru Coffee bags",
        "Maru Coffee now prints the roast date and the farm on every bag. This post describes the label format "
        "and what each field on it means.",
    ),
    (
        "complaint",
        "quality",
        "Maru Coffee beans arrived stale",
        "The Maru Coffee Colombia beans I ordered tasted flat and stale, and the roast date was seven weeks old. "
        "A disappointing bag that I could not drink.",
    ),
    (
        "praise",
        None,
        "The best decaf in Seoul might be at Maru Coffee",
        "Maru Coffee's decaf tastes like real coffee: sweet, nutty and rich. Great news for anyone who loves an "
        "evening cup.",
    ),
    (
        "chatter",
        None,
        "Coffee chains in Seoul, compared by menu size",
        "A table of eight coffee chains in Seoul, Maru Coffee among them, with the number of drinks, food items "
        "and seasonal specials on each menu this autumn.",
    ),
    (
        "complaint",
        "store",
        "Maru Coffee Myeongdong kept us waiting outside",
        "Maru Coffee Myeongdong opened forty minutes late with nobody at the door and no notice. We stood outside "
        "in the cold and the staff were rude when they finally opened.",
    ),
    (
        "praise",
        None,
        "Latte art workshop at Maru Coffee",
        "The latte art workshop at Maru Coffee was friendly and fun. The baristas were patient and kind, and I "
        "finally poured a decent heart. Excellent afternoon.",
    ),
    (
        "chatter",
        None,
        "Notes from a Maru Coffee cupping session",
        "Notes from a public cupping at Maru Coffee with three washed coffees from Huila, Sidamo and Antigua, "
        "and how the roasters describe each one.",
    ),
    (
        "praise",
        None,
        "Maru Coffee's chestnut latte is back",
        "The chestnut latte at Maru Coffee is back for winter and it is lovely: nutty, warm and not too sweet. "
        "I am delighted.",
    ),
    (
        "chatter",
        None,
        "Maru Coffee opens in Singapore's Tanjong Pagar",
        "Maru Coffee has opened its second Singapore store in Tanjong Pagar, with a menu that adds kaya toast "
        "and iced kopi-style drinks.",
    ),
]
RSS_KO = [
    (
        "praise",
        None,
        "마루커피 서촌점 방문기",
        "마루커피 서촌점 2층은 조용하고 햇살이 좋아요. "
        "핸드드립도 향이 좋고 크루아상도 맛있었어요. 정말 만족스러웠어요.",
    ),
    (
        "chatter",
        None,
        "성수동 카페 지도",
        "성수동 카페를 정리했어요. "
        "곧 문을 여는 마루커피 성수점과 연무장길 베이커리 등 여덟 곳의 위치와 영업시간입니다.",
    ),
    (
        "complaint",
        "delivery",
        "마루커피 배달 후기",
        "마루커피 배달을 시켰는데 한 시간이 넘게 걸렸고 음료가 다 식어서 왔어요. 배달이 너무 늦어서 실망했어요.",
    ),
    (
        "praise",
        None,
        "마루커피 홀리데이 블렌드 시음기",
        "마루커피 홀리데이 블렌드는 초콜릿과 오렌지 향이 나고 단맛이 길게 남아요. 올해도 정말 맛있어요.",
    ),
    (
        "chatter",
        None,
        "마루커피 원두 라벨 정리",
        "마루커피 원두 봉투에는 로스팅 날짜와 농장 이름이 적혀 있어요. 라벨의 각 항목이 무엇을 뜻하는지 정리했어요.",
    ),
    (
        "complaint",
        "loyalty",
        "마루커피 스탬프가 사라졌어요",
        "마루커피 스탬프 여덟 개가 갑자기 사라졌어요. 고객센터에 물어봐도 복구가 안 된다고 해서 너무 속상해요.",
    ),
]

# Naver news: (title, description); neutral business news.
NAVER_NEWS = [
    (
        "마루커피, 성수동에 플래그십 매장 연다",
        "커피 프랜차이즈 마루커피가 다음 달 5일 성수동에 플래그십 매장을 연다. "
        "매장에는 로스터리와 교육 공간이 함께 들어선다.",
    ),
    (
        "마루커피, 겨울 시즌 음료 3종 출시",
        "마루커피는 밤 라떼 등 겨울 시즌 음료 3종을 전국 매장과 배달 앱에서 판매한다고 밝혔다.",
    ),
    (
        "마루커피 원두 정기구독 서비스 개편",
        "마루커피는 원두 정기구독 서비스의 배송 주기를 2주와 4주 중에서 고를 수 있도록 개편한다고 밝혔다.",
    ),
    ("마루커피, 싱가포르 2호점 개점", "마루커피가 싱가포르 탄종파가에 2호점을 열었다. 현지 메뉴 두 가지가 추가됐다."),
    (
        "마루커피, 다회용컵 캠페인 전 매장으로 확대",
        "마루커피는 다회용컵 캠페인을 서울 일부 매장에서 전 매장으로 확대한다고 밝혔다.",
    ),
    ("마루커피, 연말 매장 영업시간 안내", "마루커피는 12월 24일과 31일 일부 매장의 영업시간을 조정한다고 밝혔다."),
    (
        "마루커피 앱 5.2 버전 배포",
        "마루커피는 19일 결제 화면과 스탬프 카드 화면을 바꾼 앱 5.2 버전을 배포한다고 밝혔다.",
    ),
]

# --- store reviews and YouTube comments ------------------------------------------------------
# App Store and Google Play reviews of the Maru Coffee app: (title, text, stars). Stars agree with
# the text: 1–2 for complaints, 3 for a flat remark, 4–5 for praise. Version 5.1.2 is the app before
# the 5.2 update of 2026-11-19; 5.2.0 broke login, which the version report should show.
STORE_APP = {
    "praise": {
        "ko": [
            ("주문이 빨라요", "앱으로 미리 주문하고 매장에서 바로 받아요. 줄 안 서도 돼서 정말 편하고 좋아요.", 5),
            ("만족합니다", "스탬프 적립도 자동으로 되고 메뉴 사진도 예뻐요. 출근길에 매일 잘 쓰고 있어요.", 5),
            ("편리해요", "자주 시키는 메뉴를 저장해 두니 두 번 터치면 주문 끝이에요. 아주 만족해요.", 4),
            ("좋아요", "앱 디자인이 깔끔하고 주문 과정이 간단해서 좋아요. 픽업 알림도 정확해요.", 5),
            ("최고예요", "선물하기 기능으로 친구한테 커피 보냈는데 너무 좋아했어요. 정말 편리해요.", 5),
            ("잘 쓰고 있어요", "매장 찾기랑 영업시간 안내가 정확해서 좋아요. 만족하며 쓰고 있어요.", 4),
            ("감사해요", "쿠폰이 앱에 바로 들어와서 편하게 썼어요. 직원분들도 친절하고 앱도 좋아요.", 5),
            ("빠르고 편해요", "앱 주문하면 도착하자마자 음료가 나와 있어요. 최고의 커피 앱이에요.", 5),
            ("추천해요", "원두 정기배송도 앱에서 쉽게 관리할 수 있어서 좋아요. 추천합니다.", 4),
            ("새 메뉴 주문 편해요", "겨울 신메뉴도 앱에서 바로 주문했어요. 사진이랑 설명이 자세해서 좋아요.", 5),
        ],
        "en": [
            ("Love it", "Ordering ahead with this app is so easy. My latte is always ready when I walk in.", 5),
            ("Great app", "Clean design, quick checkout and the stamps add up automatically. Really happy with it.", 5),
            ("Works well", "Saved my usual order and now it takes two taps. Great little app.", 4),
        ],
    },
    "complaint": {
        "ko": [
            (
                "billing",
                "결제 오류",
                "앱에서 결제했는데 카드에서 두 번 결제됐어요. 환불 요청했는데 아직 답이 없어요.",
                1,
            ),
            ("loyalty", "스탬프 누락", "앱으로 주문했는데 스탬프가 적립이 안 됐어요. 세 번이나 누락됐어요.", 2),
            ("delivery", "배달 지연", "앱으로 배달 주문했는데 한 시간 넘게 걸렸어요. 커피가 다 식어서 왔어요.", 2),
            (
                "app",
                "알림이 안 와요",
                "앱 픽업 알림이 안 와서 음료가 다 식은 뒤에 찾았어요. 알림 기능이 고장났어요.",
                2,
            ),
        ],
        "en": [
            (
                "app",
                "Map never loads",
                "The store map in the app never loads my location, so I cannot find the nearest shop.",
                2,
            ),
        ],
    },
    "login": {
        "ko": [
            ("로그인 안 됨", "5.2.0 업데이트 후 로그인이 안 돼요. 비밀번호가 맞는데 계속 로그인 실패라고 나와요.", 1),
            ("업데이트 후 로그인 오류", "업데이트하고 나서 앱 로그인이 계속 튕겨요. 주문을 못 하고 있어요.", 1),
            ("로그인 불가", "새 버전에서 로그인 화면만 계속 나와요. 앱 로그인이 아예 안 됩니다.", 1),
            ("로그아웃 반복", "업데이트 이후 앱을 열 때마다 로그아웃돼 있고 다시 로그인하면 오류가 나요.", 1),
            ("로그인 오류 해결해 주세요", "카카오 로그인이 업데이트 후 안 돼요. 앱에서 로그인 오류만 떠요.", 1),
            ("로그인 실패", "최신 버전 설치 후 로그인 버튼을 누르면 앱이 멈춰요. 로그인이 안 돼서 쿠폰도 못 써요.", 2),
            ("로그인 버그", "업데이트된 앱에서 로그인하면 빈 화면만 나와요. 앱 로그인 문제 빨리 고쳐 주세요.", 1),
            ("로그인 문제", "어제 업데이트 후 앱 로그인이 안 됩니다. 비밀번호 재설정해도 똑같아요.", 1),
        ],
        "en": [
            (
                "Can't log in",
                "Since the 5.2.0 update the app will not let me log in. Wrong password error every time.",
                1,
            ),
            (
                "Login broken",
                "After updating, the app logs me out and the login screen just spins. Cannot order at all.",
                1,
            ),
        ],
    },
    "chatter": {
        "ko": [
            ("보통이에요", "앱은 그냥 무난해요. 주문하고 픽업하는 기능은 다 있어요.", 3),
            ("그럭저럭", "매장에서 주문하는 거랑 크게 다르지 않아요. 가끔 앱으로 주문해요.", 3),
        ],
    },
}
# The review edited after the brand sorted out its stamps: (original, edited), each (topic, title, text, stars).
STORE_EDIT = (
    ("loyalty", "스탬프가 사라졌어요", "앱에 모아둔 스탬프 열 개가 갑자기 사라졌어요. 적립 내역도 안 보여요.", 2),
    (
        None,
        "해결됐어요",
        "고객센터에서 사라진 스탬프를 바로 복구해 주셨어요. 친절하게 도와주셔서 감사해요. 앱도 잘 쓰고 있어요.",
        4,
    ),
)
# The developer's answers on Google Play (the brand's account "marucoffee").
STORE_REPLIES = [
    "불편을 드려 죄송합니다. 고객센터(help@maru.example)로 주문번호를 보내 주시면 바로 확인해 드리겠습니다.",
    "이용에 불편을 드려 죄송합니다. 5.2.1 업데이트에서 로그인 오류를 수정했습니다. 업데이트 후 다시 이용해 주세요.",
    "소중한 의견 감사합니다. 말씀하신 문제는 담당 팀에 전달했고 빠르게 개선하겠습니다.",
]

# Comments under the brand channel's video about the winter menu: (kind, topic, text).
YOUTUBE_VIDEO_TITLE = "마루커피 겨울 시즌 메뉴 소개 | Maru Coffee winter menu"
YOUTUBE_COMMENTS = {
    "ko": [
        ("praise", None, "영상 분위기 너무 좋아요! 겨울 신메뉴 꼭 마셔 보고 싶어요."),
        ("praise", None, "밤 라떼 진짜 맛있어요. 어제 마셔 봤는데 최고였어요."),
        ("praise", None, "마루커피 영상은 늘 따뜻하고 좋아요. 신메뉴 기대돼요."),
        ("praise", None, "유자 티 너무 상큼하고 맛있었어요. 겨울에 딱이에요."),
        ("praise", None, "바리스타분 설명이 친절해서 좋았어요. 영상 잘 봤어요."),
        ("question", None, "겨울 신메뉴도 디카페인으로 주문할 수 있나요?"),
        ("question", None, "밤 라떼는 언제까지 판매하나요? 12월에도 있나요?"),
        ("question", None, "신메뉴도 앱에서 스탬프 적립이 되나요?"),
        ("complaint", "store", "영상 속 매장은 예쁜데 실제 강남점은 늘 자리가 없고 테이블이 지저분했어요."),
        ("chatter", None, "영상 배경 음악 제목이 궁금하네요."),
        ("chatter", None, "작년 겨울 메뉴는 유자차였던 것 같은데 올해도 비슷하네요."),
    ],
    "en": [
        ("praise", None, "This video makes me want a chestnut latte right now. Beautiful work!"),
        ("praise", None, "Tried the yuzu tea yesterday and it was lovely. Great winter menu."),
        ("question", None, "Is the chestnut latte available with oat milk?"),
        (
            "complaint",
            "quality",
            "The chestnut latte I got looked nothing like this video. It was watery and lukewarm.",
        ),
    ],
}
YOUTUBE_REPLIES = {
    "ko": "문의 감사합니다! 매장 직원에게 말씀해 주시면 가능 여부를 바로 안내해 드려요. ☕",
    "en": "Thanks for asking! Our baristas can tell you in store what we can make for you. ☕",
}

# The competitor: Byeol Coffee (별빛커피), a rival chain, on X. `{rival}` is "@byeolcoffee" or
# "Byeol Coffee" in English, "별빛커피" in Korean. None of these names Maru Coffee: they are about the
# rival only, so they are analyzed and counted for share of voice, never queued (dangol.core.brands).
RIVAL_COMPLAINTS: dict[str, dict[str, list[str]]] = {
    "delivery": {
        "en": [
            "{rival} delivery took an hour and a half and the iced latte arrived warm and watery. Never again.",
            "My {rival} order was marked delivered but it never came. Support keeps sending the same canned reply.",
        ],
        "ko": [
            "{rival} 배달 시킨 지 한 시간 반 만에 왔는데 커피가 다 식어 있었어요. 너무 실망이에요.",
            "{rival} 주문이 배달 완료로 떴는데 아무것도 안 왔어요. 고객센터는 연락도 안 되네요.",
        ],
    },
    "app": {
        "en": [
            "The {rival} app logged me out three times today and now it won't accept my password at all.",
            "The {rival} app crashes every time I try to pay. Lost my order twice this morning.",
            "Can't redeem anything in the {rival} app, the checkout button just spins forever. So annoying.",
        ],
        "ko": [
            "{rival} 앱 업데이트하고 나서 로그인이 계속 풀려요. 결제하려고 하면 앱이 꺼지고요.",
            "{rival} 앱에서 주문 버튼을 눌러도 아무 반응이 없어요. 오늘만 세 번째예요.",
            "{rival} 앱이 너무 느리고 자꾸 오류가 나요. 쓸 수가 없네요.",
        ],
    },
    "quality": {
        "en": [
            "The latte at {rival} tasted burnt and bitter today. Poured most of it out.",
            "Got the wrong drink at {rival} again and the cold brew tasted stale.",
        ],
        "ko": [
            "{rival} 아메리카노가 오늘따라 너무 탄 맛이 나요. 반도 못 마셨어요.",
            "{rival}에서 주문한 음료가 완전히 다른 걸로 나왔어요. 맛도 밍밍하고요.",
        ],
    },
    "store": {
        "en": ["Waited 25 minutes in line at {rival} and the barista was rude when I asked about my order."],
        "ko": ["{rival} 매장 직원이 너무 불친절했어요. 주문 확인해 달라고 했더니 한숨부터 쉬네요."],
    },
}
RIVAL_PRAISE: dict[str, list[str]] = {
    "en": [
        "The new winter blend at {rival} is lovely, really smooth and warm.",
        "Friendly staff at {rival} this morning, they remembered my order. Great start to the day!",
        "{rival} oat latte is so good, honestly my favourite this week.",
    ],
    "ko": [
        "{rival} 겨울 신메뉴 정말 맛있어요! 또 마시고 싶어요.",
        "{rival} 직원분들이 너무 친절하셨어요. 기분 좋게 하루 시작했어요.",
        "{rival} 라떼 부드럽고 맛있어요. 요즘 제일 좋아하는 커피예요.",
    ],
}
RIVAL_CHATTER: dict[str, list[str]] = {
    "en": [
        "{rival} is opening a new store near the station next month.",
        "{rival} has a two-for-one offer on Fridays this month.",
    ],
    "ko": [
        "{rival} 강남역 근처에 새 매장이 다음 달에 생긴대요.",
        "{rival} 이번 달 금요일마다 1+1 행사한대요.",
    ],
}

# A customer whose complaint the brand answered, days later (bench/demo_data/plan.py, _add_won_back).
WON_BACK = {
    "en": "Update: {brand} support got back to me and put it right the next day. Really great service, "
    "happy to be a regular again. Thank you! 😊",
    "ko": "{brand} 고객센터 답변 받고 하루 만에 해결됐어요. 대응이 빠르고 친절해서 감동이에요. 최고예요!",
}

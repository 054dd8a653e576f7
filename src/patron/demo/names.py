"""Tables the demo generator draws from: names, places, companies, mail domains and phone prefixes."""

from __future__ import annotations

# (Hangul, romanised, weight): weights follow the rough share of each surname in Korea.
KOREAN_SURNAMES: list[tuple[str, str, int]] = [
    ("김", "Kim", 21), ("이", "Lee", 14), ("박", "Park", 8), ("최", "Choi", 5), ("정", "Jung", 4),
    ("강", "Kang", 2), ("조", "Cho", 2), ("윤", "Yoon", 2), ("장", "Jang", 2), ("임", "Lim", 2),
    ("한", "Han", 1), ("오", "Oh", 1), ("서", "Seo", 1), ("신", "Shin", 1), ("권", "Kwon", 1),
    ("황", "Hwang", 1), ("안", "Ahn", 1), ("송", "Song", 1), ("류", "Ryu", 1), ("홍", "Hong", 1),
    ("전", "Jeon", 1), ("고", "Ko", 1), ("문", "Moon", 1), ("양", "Yang", 1), ("손", "Son", 1),
    ("배", "Bae", 1), ("백", "Baek", 1), ("허", "Heo", 1), ("남", "Nam", 1), ("노", "Noh", 1),
]  # fmt: skip

KOREAN_GIVEN_NAMES: list[tuple[str, str]] = [
    ("민준", "Minjun"), ("서연", "Seoyeon"), ("지우", "Jiwoo"), ("하준", "Hajun"), ("도윤", "Doyun"),
    ("서윤", "Seoyun"), ("시우", "Siwoo"), ("하은", "Haeun"), ("주원", "Juwon"), ("지호", "Jiho"),
    ("예준", "Yejun"), ("지민", "Jimin"), ("수아", "Sua"), ("하윤", "Hayun"), ("준서", "Junseo"),
    ("지유", "Jiyu"), ("건우", "Geonwoo"), ("채원", "Chaewon"), ("현우", "Hyunwoo"), ("지아", "Jia"),
    ("우진", "Woojin"), ("다은", "Daeun"), ("선우", "Sunwoo"), ("은서", "Eunseo"), ("서준", "Seojun"),
    ("민서", "Minseo"), ("유준", "Yujun"), ("예은", "Yeeun"), ("연우", "Yeonwoo"), ("수빈", "Subin"),
    ("정우", "Jungwoo"), ("윤서", "Yunseo"), ("승우", "Seungwoo"), ("지윤", "Jiyoon"), ("승현", "Seunghyun"),
    ("소윤", "Soyun"), ("민재", "Minjae"), ("예린", "Yerin"), ("지훈", "Jihoon"), ("유진", "Yujin"),
    ("태윤", "Taeyun"), ("수민", "Sumin"), ("동현", "Donghyun"), ("혜원", "Hyewon"), ("성민", "Sungmin"),
    ("은지", "Eunji"), ("영호", "Youngho"), ("미경", "Mikyung"), ("상훈", "Sanghoon"), ("정희", "Junghee"),
]  # fmt: skip

ENGLISH_FIRST_NAMES: list[str] = """
Emily James Olivia Michael Sophia William Emma Benjamin Ava Daniel Charlotte Matthew Amelia David
Isabella Joseph Mia Andrew Harper Ryan Grace Thomas Chloe Jack Lily Samuel Hannah Oliver Ella Henry
Lucy George Sarah Ethan Jessica Noah Megan Liam Rachel Christopher Laura Nathan Zoe Harry Abigail Owen
""".split()

ENGLISH_LAST_NAMES: list[str] = """
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin Jackson
Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson
Hill Campbell Mitchell Carter Roberts Evans Turner Phillips Parker Edwards Collins Stewart Murphy Cook
Morgan Bell Hughes Wood Ward Price MacDonald O'Brien
""".split()

ENGLISH_COUNTRIES: list[tuple[str, int]] = [("US", 55), ("GB", 25), ("CA", 20)]

# (Hangul, English, weight)
KOREAN_CITIES: list[tuple[str, str, int]] = [
    ("서울", "Seoul", 40), ("부산", "Busan", 10), ("인천", "Incheon", 8), ("대구", "Daegu", 7),
    ("대전", "Daejeon", 5), ("광주", "Gwangju", 5), ("수원", "Suwon", 5), ("성남", "Seongnam", 5),
    ("고양", "Goyang", 4), ("용인", "Yongin", 4), ("울산", "Ulsan", 3), ("제주", "Jeju", 2),
]  # fmt: skip

# City -> the real area codes its numbers use (GB mobiles have none).
ENGLISH_CITIES: dict[str, list[tuple[str, tuple[int, ...]]]] = {
    "US": [
        ("New York", (212, 646, 718)), ("Los Angeles", (213, 310, 323)), ("Chicago", (312, 773)),
        ("Houston", (713, 832)), ("Seattle", (206,)), ("San Francisco", (415,)), ("Boston", (617,)),
        ("Austin", (512,)), ("Denver", (303, 720)), ("Atlanta", (404, 678)), ("Miami", (305,)),
        ("Las Vegas", (702,)), ("Phoenix", (602,)), ("San Diego", (619,)),
    ],
    "CA": [
        ("Toronto", (416, 647)), ("Vancouver", (604, 778)), ("Montreal", (514, 438)),
        ("Calgary", (403, 587)), ("Ottawa", (613, 343)), ("Edmonton", (780,)),
    ],
    "GB": [
        (city, ())
        for city in "London Manchester Birmingham Leeds Glasgow Bristol Edinburgh Liverpool Cardiff".split()
    ],
}  # fmt: skip

# Allocated UK mobile ranges (07700 900xxx and some 07911 numbers are reserved or unallocated).
GB_MOBILE_PREFIXES: list[str] = (
    "7400 7403 7441 7500 7507 7562 7588 7595 7711 7723 7734 7765 "
    "7782 7800 7812 7831 7900 7930 7944 7956 7968 7971 7984 7999"
).split()

# (name, industry, mail domain)
KOREAN_COMPANIES: list[tuple[str, str, str]] = [
    ("한빛소프트", "IT", "hanbitsoft.co.kr"), ("새봄푸드", "식품", "saebomfood.co.kr"),
    ("푸른바다물산", "유통", "purunbada.co.kr"), ("대성정밀", "제조", "daesungprecision.co.kr"),
    ("온누리금융", "금융", "onnurifin.co.kr"), ("하늘길물류", "물류", "haneulgil.co.kr"),
    ("다온교육", "교육", "daonedu.co.kr"), ("참좋은의료기", "의료", "chamjoeun.co.kr"),
    ("별빛디자인", "디자인", "byeolbit.co.kr"), ("한결건설", "건설", "hangyeol.co.kr"),
    ("누리테크", "IT", "nuritech.co.kr"), ("솔빛에너지", "에너지", "solbit.co.kr"),
    ("가온전자", "제조", "gaonelec.co.kr"), ("세움회계법인", "금융", "seumcpa.co.kr"),
    ("초록마을농산", "식품", "chorokmaeul.co.kr"), ("바른치과", "의료", "bareundental.co.kr"),
    ("새길여행사", "여행", "saegiltour.co.kr"), ("한울화학", "제조", "hanulchem.co.kr"),
    ("다솜커머스", "유통", "dasomcommerce.co.kr"), ("이음마케팅", "마케팅", "ieummkt.co.kr"),
    ("든든보험중개", "금융", "deundeun.co.kr"), ("아름뷰티", "유통", "areumbeauty.co.kr"),
    ("나래항공서비스", "물류", "naraeair.co.kr"), ("해오름호텔", "숙박", "haeoreum.co.kr"),
    ("단비출판", "교육", "danbibooks.co.kr"), ("모두의헬스", "의료", "modoohealth.co.kr"),
    ("빛고을식품", "식품", "bitgoeul.co.kr"), ("새한정보통신", "IT", "saehanict.co.kr"),
    ("태극기계", "제조", "taegeukmachine.co.kr"), ("길벗컨설팅", "컨설팅", "gilbeot.co.kr"),
]  # fmt: skip

ENGLISH_COMPANIES: list[tuple[str, str, str]] = [
    ("Northwind Traders", "Retail", "northwindtraders.com"),
    ("Blue Harbor Labs", "Software", "blueharborlabs.com"),
    ("Maple Ridge Foods", "Food", "mapleridgefoods.ca"),
    ("Granite Peak Logistics", "Logistics", "granitepeak.com"),
    ("Brightwater Health", "Healthcare", "brightwaterhealth.com"),
    ("Oakline Learning", "Education", "oaklinelearning.com"),
    ("Silver Fern Finance", "Finance", "silverfernfinance.com"),
    ("Copperleaf Design", "Design", "copperleafdesign.com"),
    ("Redwood Analytics", "Software", "redwoodanalytics.io"),
    ("Harbourview Consulting", "Consulting", "harbourview.co.uk"),
    ("Thistle & Pine", "Retail", "thistlepine.co.uk"),
    ("Kestrel Manufacturing", "Manufacturing", "kestrelmfg.com"),
    ("Lakeshore Media", "Media", "lakeshoremedia.ca"),
    ("Summit Bay Realty", "Real Estate", "summitbayrealty.com"),
    ("Evergreen Outfitters", "Retail", "evergreenoutfitters.com"),
    ("Cobalt Systems", "Software", "cobaltsystems.io"),
    ("Fairhaven Dental", "Healthcare", "fairhavendental.co.uk"),
    ("Ironbridge Capital", "Finance", "ironbridgecapital.co.uk"),
    ("Willow Creek Bakery", "Food", "willowcreekbakery.com"),
    ("Polaris Freight", "Logistics", "polarisfreight.ca"),
    ("Bramble & Co", "Retail", "brambleco.co.uk"),
    ("Tidewater Energy", "Energy", "tidewaterenergy.com"),
    ("Quillfeather Press", "Education", "quillfeather.com"),
    ("Aspen Grove Clinics", "Healthcare", "aspengroveclinics.ca"),
    ("Sterling Lane Partners", "Consulting", "sterlinglane.com"),
    ("Pinecrest Software", "Software", "pinecrestsoftware.com"),
    ("Harvest Moon Market", "Retail", "harvestmoonmarket.com"),
    ("Bluebell Travel", "Travel", "bluebelltravel.co.uk"),
    ("Westbrook Engineering", "Manufacturing", "westbrookeng.com"),
    ("Foxglove Studio", "Design", "foxglovestudio.co.uk"),
]

KOREAN_JOB_TITLES: list[str] = "대표 이사 부장 차장 과장 대리 사원 팀장 실장 매니저 연구원 주임".split()
ENGLISH_JOB_TITLES: list[str] = [
    "CEO", "Founder", "Marketing Manager", "Operations Manager", "Sales Director", "Account Executive",
    "Software Engineer", "Office Manager", "Head of Growth", "Purchasing Manager", "Product Manager", "CFO",
]  # fmt: skip

# (domain, weight); "@company" stands for the person's employer's domain.
COMPANY_DOMAIN = "@company"
MAIL_DOMAINS: dict[str, list[tuple[str, int]]] = {
    "KR": [
        ("naver.com", 38), ("gmail.com", 25), ("daum.net", 10), ("hanmail.net", 9),
        ("kakao.com", 6), ("nate.com", 4), (COMPANY_DOMAIN, 8),
    ],
    "US": [
        ("gmail.com", 40), ("yahoo.com", 12), ("outlook.com", 15), ("hotmail.com", 6),
        ("icloud.com", 8), ("aol.com", 2), (COMPANY_DOMAIN, 10),
    ],
    "GB": [
        ("gmail.com", 35), ("outlook.com", 15), ("hotmail.com", 10), ("yahoo.co.uk", 8),
        ("btinternet.com", 6), ("icloud.com", 6), (COMPANY_DOMAIN, 10),
    ],
    "CA": [
        ("gmail.com", 40), ("outlook.com", 15), ("hotmail.com", 10), ("yahoo.com", 6),
        ("rogers.com", 5), ("shaw.ca", 4), ("icloud.com", 6), (COMPANY_DOMAIN, 10),
    ],
}  # fmt: skip

# Misspellings people really type; each still looks like a valid address.
DOMAIN_TYPOS: dict[str, list[str]] = {
    "gmail.com": ["gmial.com", "gmail.con", "gmai.com", "gnail.com"],
    "naver.com": ["naver.con", "naevr.com", "nave.com"],
    "hanmail.net": ["hanmial.net", "hanmail.ner"],
    "daum.net": ["duam.net", "daum.ent"],
    "yahoo.com": ["yaho.com", "yahoo.con"],
    "outlook.com": ["outlok.com", "outlook.con"],
    "hotmail.com": ["hotmial.com", "hotmail.co"],
}

# Named as the newsletter tool writes them; each names one of the demo's topics (by key, loosely).
NEWSLETTER_LISTS: list[str] = ["newsletter", "offers", "product-updates", "events"]

"""Data tables behind the demo generator: names, scheme shapes, grading policies, indicator trees.

Everything the generator invents comes from these tables, so another shape (a Nantong-style
scheme, another set of categories) is a data change, not a code change. Place names are invented;
department names follow the usual structure of a Chinese prefecture (市委组织部, 市财政局 …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# --- registry ---------------------------------------------------------------------------------

# (code, name, description); order is the ranking order of the categories.
CATEGORIES: Final = (
    ("county", "县市", "各县（市）党委政府领导班子"),
    ("party", "党委部门", "市委工作部门及直属机构"),
    ("mass", "群团部门", "工会、共青团、妇联等人民团体"),
    ("government", "政务部门", "市政府综合办事及服务部门"),
    ("economic", "经济管理部门", "发展改革、财政、产业等经济管理部门"),
    ("social", "社会发展部门", "教育、卫生、生态等社会事业部门"),
    ("enforcement", "执法监督部门", "政法、审计、市场监管等执法监督部门"),
    ("congress", "人大政协各委室", "市人大常委会、市政协各委室"),
)

FUNCTION_ZONES: Final = (
    ("industrial", "工业转型区", "以工业转型升级、园区建设为主要功能"),
    ("agricultural", "农产品主产区", "以粮食和特色农产品生产加工为主要功能"),
    ("ecological", "生态保护区", "以生态保护、生态产品价值实现为主要功能"),
)

PROVINCE_NAME: Final = "云江省"
PREFECTURE_NAMES: Final = (
    "青岚市", "澧阳市", "沅城市", "武陵市", "楚溪市", "桂川市", "翠屏市",
    "南岳市", "湄江市", "峒阳市", "芷兰市", "潇湘市", "辰溪市", "雪峰市",
)  # fmt: skip
# Invented county names come from two syllable lists (first × second), never real data.
COUNTY_FIRST: Final = "清凤龙云白青金玉翠丹桃梅松柳石紫永安宁长兴德福昌嘉鹤麻花茶"
COUNTY_SECOND: Final = "溪岭江川源阳山水峰泉湖坪河林塘潭冈浦原城"
# Pairs that are well-known real places or plain words are left out.
COUNTY_EXCLUDED: Final = frozenset(
    {"长城", "长江", "长河", "安阳", "德阳", "松江", "龙泉", "永安", "安宁", "石林", "丹江", "金山", "青山", "白山",
     "云山", "凤阳", "昌江", "清河", "桃源", "兴山", "福泉", "龙江", "宁江", "宁阳", "永川", "长阳", "昌源", "麻江"}
)  # fmt: skip

# Prefecture departments by category (94 in all). A name starting with 市 becomes 〈县名〉… at county level.
DEPARTMENTS: Final[dict[str, tuple[str, ...]]] = {
    "party": (
        "市委办公室",
        "市委组织部",
        "市委宣传部",
        "市委统战部",
        "市委政法委员会",
        "市委政策研究室",
        "市委网信办",
        "市委编办",
        "市委党校",
        "市直机关工委",
        "市委老干部局",
        "市委党史研究室",
        "市委巡察办",
        "市委外事办",
        "市委台办",
        "市档案馆",
    ),
    "mass": (
        "市总工会",
        "团市委",
        "市妇联",
        "市科协",
        "市文联",
        "市侨联",
        "市残联",
        "市红十字会",
        "市工商联",
    ),
    "government": (
        "市人民政府办公室",
        "市民政局",
        "市司法局",
        "市人力资源和社会保障局",
        "市退役军人事务局",
        "市信访局",
        "市机关事务管理局",
        "市政务服务中心",
        "市民族宗教事务委员会",
        "市应急管理局",
        "市人民政府研究室",
        "市人民防空办公室",
    ),
    "economic": (
        "市发展和改革委员会",
        "市财政局",
        "市工业和信息化局",
        "市商务局",
        "市自然资源和规划局",
        "市住房和城乡建设局",
        "市交通运输局",
        "市水利局",
        "市农业农村局",
        "市林业局",
        "市文化旅游广电局",
        "市统计局",
        "市国有资产监督管理委员会",
        "市地方金融管理局",
        "市乡村振兴局",
        "市经济开发区管委会",
        "市供销合作社",
        "市投资促进局",
    ),
    "social": (
        "市教育局",
        "市科学技术局",
        "市卫生健康委员会",
        "市医疗保障局",
        "市生态环境局",
        "市体育局",
        "市融媒体中心",
        "市疾病预防控制中心",
        "市社会保险服务中心",
        "市住房公积金管理中心",
        "市图书馆",
        "市公共资源交易中心",
    ),
    "enforcement": (
        "市纪委监委",
        "市中级人民法院",
        "市人民检察院",
        "市公安局",
        "市审计局",
        "市市场监督管理局",
        "市城市管理和综合执法局",
        "市税务局",
        "市生态环境保护综合行政执法支队",
        "市交通运输综合行政执法支队",
        "市文化市场综合行政执法支队",
        "市农业综合行政执法支队",
        "市消防救援支队",
        "市烟草专卖局",
        "市药品监督管理局",
    ),
    "congress": (
        "市人大常委会办公室",
        "市人大法制委员会",
        "市人大财政经济委员会",
        "市人大教育科学文化卫生委员会",
        "市人大农业与农村委员会",
        "市人大社会建设委员会",
        "市政协办公室",
        "市政协提案委员会",
        "市政协经济委员会",
        "市政协文史和学习委员会",
        "市政协社会和法制委员会",
        "市政协人口资源环境委员会",
    ),
}

# County-level renames where the prefecture name does not carry over by replacing 市.
COUNTY_RENAMES: Final = {"市中级人民法院": "人民法院", "团市委": "团县委", "市人民政府": "人民政府"}

# (suffix, head title, member title); the first suffix that ends the unit name wins.
TITLES_BY_SUFFIX: Final = (
    ("纪委监委", "书记、主任", "副书记、副主任"),
    ("人民政府", "县委书记", "副县长"),
    ("检察院", "检察长", "副检察长"),
    ("法院", "院长", "副院长"),
    ("团市委", "书记", "副书记"),
    ("团县委", "书记", "副书记"),
    ("党校", "常务副校长", "副校长"),
    ("工会", "常务副主席", "副主席"),
    ("联", "主席", "副主席"),
    ("科协", "主席", "副主席"),
    ("红十字会", "常务副会长", "副会长"),
    ("供销合作社", "理事会主任", "理事会副主任"),
    ("支队", "支队长", "副支队长"),
    ("中心", "主任", "副主任"),
    ("馆", "馆长", "副馆长"),
    ("部", "部长", "副部长"),
    ("局", "局长", "副局长"),
    ("委员会", "主任", "副主任"),
    ("办公室", "主任", "副主任"),
    ("", "主任", "副主任"),
)
# County leadership teams: the head and the usual members, in order.
COUNTY_HEAD_TITLE: Final = "县委书记"
COUNTY_MEMBER_TITLES: Final = (
    "县长", "县委副书记", "常务副县长", "县委常委、组织部部长", "县委常委、纪委书记",
    "县委常委、宣传部部长", "县委常委、政法委书记", "副县长",
)  # fmt: skip
COUNTY_OTHER_TITLES: Final = (
    "县人大常委会主任", "县人大常委会副主任", "县政协主席", "县政协副主席", "县长助理",
    "县委办公室主任", "县政府办公室主任", "县委统战部部长", "县人民法院院长", "县人民检察院检察长",
    "县公安局局长", "县发展和改革局局长", "县财政局局长", "县教育局局长", "县自然资源局局长",
    "县乡村振兴局局长", "县农业农村局局长", "县交通运输局局长", "县水利局局长", "县卫生健康局局长",
    "县住房和城乡建设局局长", "县民政局局长", "县人力资源和社会保障局局长", "县市场监督管理局局长",
    "县应急管理局局长", "县工业园区管委会主任", "一级调研员", "二级调研员",
)  # fmt: skip
# When a unit has more other officials than named posts, the rest hold senior non-leading ranks.
SENIOR_RANK_POSTS: Final = ("一级调研员", "二级调研员", "三级调研员", "四级调研员")
PORTFOLIOS: Final = (
    "办公室、机关党建", "规划财务", "人事教育", "政策法规", "项目建设", "安全生产", "综合协调",
    "信息化建设", "行政审批", "督查督办", "对外联络", "产业发展", "基层工作", "宣传信息", "内部审计",
)  # fmt: skip
# Other officials at a department: chief engineers, senior non-leading ranks, section chiefs.
OTHER_POSTS: Final = (
    "总工程师", "总经济师", "一级调研员", "二级调研员", "三级调研员", "四级调研员",
    "机关党委专职副书记", "办公室主任", "政策法规科科长", "规划财务科科长", "人事教育科科长",
    "综合业务科科长", "行政审批科科长", "督查科科长", "信息中心主任", "直属机构负责人",
)  # fmt: skip

RANKS: Final[dict[str, tuple[str, ...]]] = {
    "head": ("正处级",),
    "member": ("副处级", "副处级", "副处级", "二级调研员"),
    "other": ("副处级", "一级调研员", "二级调研员", "三级调研员", "四级调研员", "正科级"),
}
COUNTY_RANKS: Final[dict[str, tuple[str, ...]]] = {
    "head": ("正处级",),
    "member": ("正处级", "副处级", "副处级"),
    "other": ("正处级", "副处级", "副处级", "一级调研员", "二级调研员"),
}

# Common surnames, with those frequent in the Wuling mountains (向、彭、田、龙、覃、石) included.
SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万覃向"
)
GIVEN_MALE: Final = "伟强军平刚勇毅俊峰建国明辉志华文斌鹏涛海波宏亮东林晓春德胜永庆超杰新利武兵"
GIVEN_FEMALE: Final = "芳娟敏静丽艳红霞燕玲萍琳慧颖婷雪梅兰秀英洁晶佳倩琴云凤娜莉蓉"

# --- schemes ----------------------------------------------------------------------------------

# Rater groups of every cycle ("1+5+N"): (code, name, trim %, trim only above this many ratings,
# minimum ballots shown, order). Peer ratings drop the top and bottom 5% when there are more than 5.
RATER_GROUPS: Final = (
    ("org", "组织部门", "0", 5, 1, 1),
    ("leaders", "上级领导", "0", 5, 2, 2),
    ("peers", "同级互评", "5", 5, 5, 3),
    ("public", "群众与服务对象", "5", 5, 5, 4),
    ("third_party", "第三方", "0", 5, 5, 5),
    ("media", "媒体", "0", 5, 1, 6),
)
# Rating items: units are rated on one overall satisfaction item; officials on 德能勤绩廉 and their
# portfolio (分管工作).
UNIT_ITEMS: Final = {"overall": 100}
QUALITY_ITEMS: Final = {"de": 20, "neng": 20, "qin": 15, "ji": 30, "lian": 15}
PORTFOLIO_ITEMS: Final = {"portfolio": 100}
# 社会公认度: the "1+5+N" group weights (组织 20, 领导 15, 同级 15, 群众 35, 第三方 10, 媒体 5).
PUBLIC_GROUPS: Final = {"org": 20, "leaders": 15, "peers": 15, "public": 35, "third_party": 10, "media": 5}

# Component shapes: (code, name, weight, sub-components, indicator tree key). Weights are shares of 100.
# A component without a tree takes its score from ratings (COMPONENT_RATINGS).
ComponentDef = tuple[str, str, str, tuple[tuple[str, str, str], ...], str]
SCHEME_SHAPES: Final[dict[str, tuple[ComponentDef, ...]]] = {
    # 湘西式：县市 平时实绩 20 / 年度实绩 45 / 自身建设 20 / 社会公认度 15
    "xiangxi_county": (
        ("routine", "平时实绩", "20", (), "routine"),
        ("annual", "年度实绩", "45", (), "county_annual"),
        ("self", "自身建设", "20", (), "self_building"),
        ("public", "社会公认度", "15", (), ""),
    ),
    # 湘西式：州直单位 15 / 50 / 15 / 20
    "xiangxi_unit": (
        ("routine", "平时实绩", "15", (), "routine"),
        ("annual", "年度实绩", "50", (), "unit_annual"),
        ("self", "自身建设", "15", (), "self_building"),
        ("public", "社会公认度", "20", (), ""),
    ),
    # 南通式（数据示例，未分配给类别）：万人评议 30（社会 20 + 领导 10）、日常 30、目标绩效 40
    "nantong": (
        ("review", "万人评议", "30", (("social", "社会评议", "66.67"), ("leaders", "领导评议", "33.33")), ""),
        ("daily", "日常考核", "30", (), ""),
        ("target", "目标绩效", "40", (("key", "重点目标", "60"), ("dynamic", "动态目标", "30"), ("common", "共性目标", "10")), ""),
    ),
}  # fmt: skip
SHAPE_BY_CATEGORY: Final = {"county": "xiangxi_county"}  # every other category: xiangxi_unit
DEFAULT_SHAPE: Final = "xiangxi_unit"
# Team components scored from ratings: code → (rater group weights, item weights).
COMPONENT_RATINGS: Final[dict[str, tuple[dict[str, int], dict[str, int]]]] = {
    "public": (PUBLIC_GROUPS, UNIT_ITEMS),
}

# Officials' components (every scheme): (code, name, source, layer weights head/member/other,
# rater groups, items, team component). Head = 70 team + 30 德能勤绩廉; members and other officials =
# 50 team + 30 portfolio (分管工作) + 20 德能勤绩廉. "duty" takes the team's 年度实绩.
OfficialComponentDef = tuple[str, str, str, dict[str, int], dict[str, int], dict[str, int], str]
OFFICIAL_COMPONENTS: Final[tuple[OfficialComponentDef, ...]] = (
    ("duty", "履职尽责（班子年度实绩）", "team", {"head": 70, "member": 50, "other": 50}, {}, {}, "annual"),
    ("portfolio", "分管工作", "ratings", {"head": 0, "member": 30, "other": 30},
     {"org": 40, "leaders": 60}, PORTFOLIO_ITEMS, ""),
    ("quality", "德能勤绩廉", "ratings", {"head": 30, "member": 20, "other": 20},
     {"org": 20, "leaders": 25, "peers": 20, "public": 35}, QUALITY_ITEMS, ""),
)  # fmt: skip

# Scheme.options: supervision deductions come off the annual component (capped at 10 points),
# debt over its limit costs 2% of the score per percentage point, falsification zeroes the item.
SCHEME_OPTIONS: Final[dict[str, Any]] = {
    "missing_indicator": "zero",
    "adjustments": {
        "deduction_component": "annual", "deduction_cap": 10, "debt_enabled": True,
        "debt_rate_per_point": 0.02, "falsification_enabled": True,
    },
    "official_adjustments": {"debt_enabled": False, "falsification_enabled": False},
}  # fmt: skip
# GradingPolicy.options by subject.
POLICY_OPTIONS: Final[dict[str, dict[str, Any]]] = {
    "team": {"rounding": "floor", "veto_ceiling": "二等", "falsification_grade": "三等"},
    "official": {"rounding": "floor", "veto_ceiling": "称职", "falsification_grade": "不称职"},
}

# (code, label, quota %); the level with quota None takes everyone left (80% in the sources).
TEAM_LEVELS: Final = (("first", "一等", "15"), ("second", "二等", None), ("third", "三等", "5"))
OFFICIAL_LEVELS: Final = (
    ("excellent", "优秀", "15"),
    ("competent", "称职", None),
    ("basic", "基本称职", "4"),
    ("incompetent", "不称职", "1"),
)
# Grading rules by subject: (GradingRuleType value, enabled, params). Shares are fractions of 1;
# "1/3" stays a string so that "more than one third" is exact.
GRADING_RULES: Final[dict[str, tuple[tuple[str, bool, dict[str, Any]], ...]]] = {
    "team": (
        ("bottom_share", False, {"share": 0.05, "grade": "三等"}),
        ("sanctions", True, {"sanctions": [{"level": "accountable", "effect": "ceiling", "grade": "三等"}]}),
        # Last place two years running: flagged (the team is adjusted), no grade of its own.
        ("consecutive_last", True, {}),
    ),
    "official": (
        ("bottom_share", True, {"share": 0.05, "grade": "基本称职"}),
        ("evaluation_bottom_share", True, {"share": 0.02, "component": "quality", "grade": "基本称职"}),
        (
            "target_under",
            True,
            {"threshold": 0.6, "rule_types": ["completion", "threshold_deduction"], "grade": "基本称职"},
        ),
        ("negative_votes", True, {"more_than": "1/3", "labels": ["基本称职", "不称职"], "grade": "基本称职"}),
        (
            "sanctions",
            True,
            {
                # From the lightest to the heaviest; levels are facts.models.SanctionLevel values.
                "sanctions": [
                    {"level": "admonish", "effect": "ceiling", "grade": "称职"},
                    {"level": "warning", "effect": "ceiling", "grade": "称职"},
                    {"level": "post_adjustment", "effect": "ceiling", "grade": "称职"},
                    {"level": "accountable", "effect": "forced", "grade": "基本称职"},
                    {"level": "serious_warning", "effect": "no_grade"},
                    {"level": "major", "effect": "no_grade"},
                    {"level": "removal", "effect": "forced", "grade": "不称职"},
                ]
            },
        ),
        (
            "team_cap",
            True,
            {
                "team_caps": {
                    "一等": {"member_share": 0.30},
                    "二等": {"member_share": 0.20},
                    "三等": {"member_share": 0.15, "head_ceiling": "基本称职"},
                }
            },
        ),
        # Last place two years running: flagged (removal from the post is proposed), no grade.
        ("consecutive_last", True, {}),
    ),
}

# --- indicator trees --------------------------------------------------------------------------
# A tree is a list of level-1 entries: (name, weight, level-2 entries). A level-2 entry is a dict:
# name, lead (department whose name ends the lead unit's name), level3 (names; default: generic),
# flags dynamic / long_term, veto (add a 一票否优 leaf under the first level-3 node).
L1 = tuple[str, str, tuple[dict[str, Any], ...]]


def _l2(name: str, *level3: str, lead: str = "", **flags: bool) -> dict[str, Any]:
    return {"name": name, "lead": lead, "level3": level3, **flags}


TREES: Final[dict[str, tuple[L1, ...]]] = {
    "county_annual": (
        ("重点工作", "20", (
            _l2("重大项目建设", "省市重点项目投资", "项目开工率", "项目竣工投产", lead="市发展和改革委员会", long_term=True),
            _l2("招商引资", "实际利用内资", "引进重大产业项目", "签约项目履约率", lead="市投资促进局"),
            _l2("乡村振兴", "脱贫人口人均纯收入增长", "防止返贫动态监测", "和美乡村建设", lead="市乡村振兴局", long_term=True),
            _l2("营商环境优化", "政务服务事项网上可办率", "企业开办时间", "营商环境评价", lead="市政务服务中心"),
        )),
        ("特色工作", "8", (
            _l2("文旅融合发展", "旅游接待人次", "旅游综合收入", "A级景区创建", lead="市文化旅游广电局"),
            _l2("特色产业培育", "特色农产品基地面积", "特色产业产值", lead="市农业农村局"),
            _l2("民族团结进步创建", "示范单位创建", "民族政策落实", lead="市民族宗教事务委员会"),
        )),
        ("民生工作", "12", (
            _l2("就业创业", "城镇新增就业", "城镇调查失业率", "农村劳动力转移就业", lead="市人力资源和社会保障局"),
            _l2("教育发展", "学前教育毛入园率", "义务教育巩固率", "控辍保学", lead="市教育局"),
            _l2("医疗卫生", "家庭医生签约率", "基层医疗机构达标", lead="市卫生健康委员会"),
            _l2("社会保障", "城乡居民医保参保率", "养老保险参保率", "低保动态管理", lead="市医疗保障局"),
            _l2("住房保障", "保障性住房开工", "老旧小区改造", lead="市住房和城乡建设局"),
        )),
        ("经济发展", "20", (
            _l2("经济总量", "地区生产总值", "人均地区生产总值", lead="市统计局"),
            _l2("财政收入", "地方一般公共预算收入", "税收占比", "政府债务率控制", lead="市财政局"),
            _l2("固定资产投资", "固定资产投资增速", "工业投资", "民间投资", lead="市统计局"),
            _l2("工业经济", "规模以上工业增加值", "新增规模以上工业企业", lead="市工业和信息化局"),
            _l2("消费与外贸", "社会消费品零售总额", "进出口总额", lead="市商务局"),
            _l2("城乡居民收入", "城镇居民人均可支配收入", "农村居民人均可支配收入", lead="市统计局"),
        )),
        ("社会发展", "12", (
            _l2("平安建设", "群众安全感", "命案侦破率", "矛盾纠纷化解", lead="市委政法委员会"),
            _l2("科技创新", "研发经费投入强度", "高新技术企业数", lead="市科学技术局"),
            _l2("文化建设", "公共文化服务", "文明城市创建", lead="市委宣传部"),
            _l2("人口发展", "人口出生监测", "普惠托育服务", lead="市卫生健康委员会"),
        )),
        ("可持续发展", "8", (
            _l2("生态环境质量", "空气质量优良天数比例", "地表水断面达标率", "土壤安全利用率", lead="市生态环境局", long_term=True),
            _l2("节能减排", "单位地区生产总值能耗", "主要污染物减排", lead="市发展和改革委员会"),
            _l2("自然资源保护", "耕地保有量", "森林覆盖率", "违法用地整治", lead="市自然资源和规划局", long_term=True),
            _l2("城乡建设", "常住人口城镇化率", "污水集中处理率", lead="市住房和城乡建设局"),
        )),
        ("行政效能", "8", (
            _l2("依法行政", "行政复议纠错率", "法治政府建设", lead="市司法局"),
            _l2("政务服务", "一网通办", "好差评满意率", lead="市政务服务中心"),
            _l2("督查督办", "重点督办事项办结率", "建议提案办理", lead="市人民政府办公室"),
        )),
        ("公共责任", "8", (
            _l2("安全生产", "生产安全事故起数", "重大安全隐患整改", lead="市应急管理局", veto=True),
            _l2("信访维稳", "信访事项及时受理率", "越级信访", lead="市信访局"),
            _l2("生态环保责任", "环保督察问题整改", "突发环境事件", lead="市生态环境局"),
            _l2("食品药品安全", "食品抽检合格率", "药品安全事件", lead="市市场监督管理局"),
        )),
        ("临时工作", "4", (
            _l2("上级交办事项", "省委省政府交办任务", "市委市政府交办任务", lead="市人民政府办公室", dynamic=True),
            _l2("突发事件应对", "防汛抗旱", "森林防火", lead="市应急管理局", dynamic=True),
        )),
    ),
    "unit_annual": (
        ("重点工作", "30", (
            _l2("市委市政府重点任务", "年度重点任务清单", "重大改革事项", lead="市委办公室"),
            _l2("重大项目推进", "牵头项目投资完成", "项目要素保障", lead="市发展和改革委员会", long_term=True),
            _l2("营商环境优化", "涉企服务事项办理", "优化营商环境评价", lead="市政务服务中心"),
            _l2("乡村振兴联点帮扶", "驻村帮扶", "产业帮扶项目", lead="市乡村振兴局"),
        )),
        ("职能工作", "40", ()),  # filled per category from FUNCTION_WORK
        ("行政效能", "10", (
            _l2("依法行政", "规范性文件备案审查", "行政执法规范化", lead="市司法局"),
            _l2("政务服务", "办件按时办结率", "好差评满意率", lead="市政务服务中心"),
            _l2("督查督办", "督办事项办结率", "建议提案办理", lead="市人民政府办公室"),
        )),
        ("公共责任", "12", (
            _l2("安全生产", "行业安全监管", "安全生产事故", lead="市应急管理局", veto=True),
            _l2("信访维稳", "信访事项办理", "矛盾纠纷化解", lead="市信访局"),
            _l2("意识形态工作", "意识形态工作责任制", "网络舆情处置", lead="市委宣传部"),
            _l2("保密工作", "保密检查", "涉密载体管理", lead="市委办公室"),
        )),
        ("临时工作", "8", (
            _l2("上级交办事项", "市委市政府交办任务", "领导批示件办理", lead="市人民政府办公室", dynamic=True),
            _l2("突发事件应对", "应急值守", "应急处置", lead="市应急管理局", dynamic=True),
        )),
    ),
    "self_building": (
        ("政治建设", "25", (
            _l2("理论学习", "中心组学习", "学习教育", lead="市委宣传部"),
            _l2("基层党组织建设", "支部标准化建设", "党员教育管理", lead="市直机关工委"),
            _l2("意识形态责任", "阵地管理", "舆情引导", lead="市委宣传部"),
        )),
        ("科学决策", "25", (
            _l2("民主集中制", "“三重一大”集体决策", "议事规则执行"),
            _l2("调查研究", "调研课题", "调研成果转化"),
            _l2("决策执行", "决策部署落实", "决策后评估"),
        )),
        ("团结协作", "20", (
            _l2("班子团结", "民主生活会", "班子分工协作"),
            _l2("干部队伍建设", "干部培养使用", "年轻干部培养", lead="市委组织部"),
            _l2("作风建设", "形式主义官僚主义整治", "基层减负"),
        )),
        ("廉政建设", "30", (
            _l2("党风廉政建设责任制", "主体责任落实", "违纪违法案件", lead="市纪委监委", veto=True),
            _l2("中央八项规定精神落实", "公务接待", "公车管理", lead="市纪委监委"),
            _l2("巡视巡察整改", "问题整改完成率", "长效机制建设", lead="市委巡察办"),
        )),
    ),
    "routine": (
        ("季度考核", "60", (
            _l2("第一季度", "目标进度", "工作亮点"),
            _l2("第二季度", "目标进度", "工作亮点"),
            _l2("第三季度", "目标进度", "工作亮点"),
            _l2("第四季度", "目标进度", "工作亮点"),
        )),
        ("日常督查", "40", (
            _l2("月度督查", "督查通报", "问题整改", lead="市人民政府办公室"),
            _l2("专项督查", "专项督查评价", lead="市委办公室"),
        )),
    ),
}  # fmt: skip

# 职能工作 level-2 aspects per prefecture unit category.
FUNCTION_WORK: Final[dict[str, tuple[str, ...]]] = {
    "party": ("党的建设", "干部队伍建设", "宣传思想工作", "统一战线工作", "政策研究"),
    "mass": ("联系服务群众", "维护合法权益", "组织建设", "品牌活动"),
    "government": ("政务运转保障", "法治政府建设", "民生服务保障", "应急保障"),
    "economic": ("经济运行调度", "产业发展", "项目建设", "财源建设", "改革创新"),
    "social": ("教育卫生事业", "公共服务供给", "社会事业改革", "生态环境保护"),
    "enforcement": ("执法办案", "监督检查", "规范执法", "执法队伍建设"),
    "congress": ("立法工作", "监督工作", "代表委员服务", "调研视察"),
}
GENERIC_LEVEL3: Final = ("年度目标任务", "重点改革事项", "工作质量", "创新突破")

# Level-4 name suffix per rule type; the level-4 name is 〈level 3〉〈suffix〉.
RULE_SUFFIX: Final = {
    "completion": ("目标完成率", "任务完成进度"),
    "steps": ("达标档次", "分档考核"),
    "threshold_deduction": ("达标情况", "落实情况"),
    "bonus_deduction": ("加减分事项",),
    "grade_map": ("工作质量评价", "综合评定"),
    "rank_points": ("全市排名", "同类单位排位"),
    "best_proportion": ("与最优单位比较",),
    "yoy_improvement": ("同比进位", "较上年提升"),
    "vs_average": ("与全市平均水平比较",),
    "veto": ("一票否优事项",),
}
# Relative likelihood of each rule type for ordinary leaves, per component code.
RULE_WEIGHTS: Final[dict[str, dict[str, int]]] = {
    "annual": {
        "completion": 8, "steps": 3, "threshold_deduction": 3, "bonus_deduction": 2, "grade_map": 2,
        "rank_points": 2, "best_proportion": 1, "yoy_improvement": 2, "vs_average": 1,
    },
    "routine": {"grade_map": 4, "steps": 2, "bonus_deduction": 2, "threshold_deduction": 1},
    "self": {"grade_map": 5, "threshold_deduction": 2, "bonus_deduction": 2, "steps": 1},
}  # fmt: skip
# Words in a level-3 name that mean "lower is better" (accidents, unemployment, energy use …).
LOWER_IS_BETTER_WORDS: Final = ("事故", "失业率", "能耗", "纠错率", "越级", "突发", "违纪", "事件", "债务率")

# --- units of measure of the leaves ------------------------------------------------------------
# A leaf's value is drawn in its unit of measure, read from its name: a share or a rate is a
# percentage (never above 100), a growth rate a few percent, money in 亿元, areas in 万亩, people,
# counts of items, days, or otherwise a 100-point assessment score. ``typical`` is where a leaf's
# level (target, last year, peer value) is drawn; ``bounds`` is what any value may take.


@dataclass(frozen=True)
class Measure:
    """One unit of measure (计量单位) of demo indicator values."""

    code: str
    unit: str
    typical: tuple[float, float]
    bounds: tuple[float, float]
    integer: bool = False


MEASURES: Final = {
    "percent": Measure("percent", "%", (60.0, 96.0), (0.0, 100.0)),
    "percent_low": Measure("percent_low", "%", (2.0, 12.0), (0.0, 100.0)),  # 失业率, 纠错率 …
    "growth": Measure("growth", "%", (3.0, 9.0), (-20.0, 40.0)),
    "money": Measure("money", "亿元", (3.0, 120.0), (0.0, 5_000.0)),
    "area": Measure("area", "万亩", (20.0, 300.0), (0.0, 5_000.0)),
    "people": Measure("people", "人", (1_500.0, 20_000.0), (0.0, 500_000.0), integer=True),
    "items": Measure("items", "项", (5.0, 60.0), (0.0, 5_000.0), integer=True),
    "days": Measure("days", "天", (2.0, 15.0), (0.5, 365.0)),
    "score": Measure("score", "分", (70.0, 95.0), (0.0, 100.0)),
}
# (words in the subject, measure), first match wins; the subject is the name without its rule suffix.
MEASURE_WORDS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("增速", "增长"), "growth"),
    (("失业率", "纠错率", "事故率", "发生率"), "percent_low"),
    (("率", "比例", "占比", "比重"), "percent"),
    (("时间", "时限", "用时"), "days"),
    (("收入", "投资", "产值", "内资", "税收", "总量", "增加值", "生产总值", "资金"), "money"),
    (("面积", "保有量"), "area"),
    (("就业", "人数", "人才", "培训"), "people"),
    (("项目", "事项", "案件", "事件", "事故", "问题", "信访", "成果"), "items"),
)
# Rules whose value is not in the subject's unit: counts of problems or merits, a triggered veto,
# and steps whose thresholds are on a 100-point scale.
RULE_MEASURE: Final = {"bonus_deduction": "items", "veto": "items"}


def measure_for(name: str, rule: str) -> Measure:
    """Return the unit of measure of a demo leaf called ``name`` scored by ``rule``."""
    if rule in RULE_MEASURE:
        return MEASURES[RULE_MEASURE[rule]]
    subject = name
    for suffix in sorted(RULE_SUFFIX.get(rule, ()), key=len, reverse=True):
        if subject.endswith(suffix) and len(subject) > len(suffix):
            subject = subject[: -len(suffix)]
            break
    code = next((m for words, m in MEASURE_WORDS if any(w in subject for w in words)), "score")
    if rule == "steps" and code not in ("percent", "score"):
        code = "score"  # the steps' thresholds (70–100) are on a 100-point scale
    return MEASURES[code]


# --- the "3+3+3" indicator library ------------------------------------------------------------
# (kind, code, name, description, function zone code or "", layer or "", rule type, params)
LibraryDef = tuple[str, str, str, str, str, str, str, dict[str, Any]]
_GRADES = {"好": 1.0, "较好": 0.85, "一般": 0.7, "较差": 0.5}
LIBRARY: Final[tuple[LibraryDef, ...]] = (
    ("basic", "basic-political", "政治素质", "政治忠诚、政治定力、政治担当、政治能力", "", "", "grade_map", {"map": _GRADES}),
    ("basic", "basic-rules", "规矩执行", "执行民主集中制、请示报告等制度", "", "", "grade_map", {"map": _GRADES}),
    ("basic", "basic-integrity", "廉洁自律", "遵守中央八项规定精神，无违纪违法", "", "", "veto", {"triggered_rate": 0.0}),
    ("regional", "zone-ind-tax-mu", "亩均税收", "工业用地亩均税收", "industrial", "", "vs_average", {"tiers": [[1.2, 1.0], [1.0, 0.85], [0.8, 0.7]], "below": 0.5}),
    ("regional", "zone-ind-value-added", "规模以上工业增加值增速", "", "industrial", "", "completion", {"floor": 0.6, "cap": 1.2}),
    ("regional", "zone-ind-tech-invest", "工业技改投资", "", "industrial", "", "completion", {"floor": 0.5, "cap": 1.1}),
    ("regional", "zone-agri-processing", "农产品加工产值", "农产品加工业产值与农业总产值之比", "agricultural", "", "completion", {"floor": 0.6, "cap": 1.2}),
    ("regional", "zone-agri-grain", "粮食播种面积", "", "agricultural", "", "threshold_deduction", {"per_unit": 0.02, "min_rate": 0.0}),
    ("regional", "zone-agri-income", "农村居民人均可支配收入增速", "", "agricultural", "", "yoy_improvement", {"base": 0.6, "per_point": 0.05}),
    ("regional", "zone-eco-gep", "生态系统生产总值（GEP）", "生态产品价值核算", "ecological", "", "yoy_improvement", {"base": 0.7, "per_point": 0.03}),
    ("regional", "zone-eco-forest", "森林覆盖率", "", "ecological", "", "threshold_deduction", {"per_unit": 0.1, "min_rate": 0.0}),
    ("regional", "zone-eco-water", "地表水水质达标率", "", "ecological", "", "steps", {"steps": [[100, 1.0], [95, 0.8], [90, 0.6]], "below": 0.0}),
    ("position", "pos-head-overall", "统筹全局", "班子建设与统筹协调", "", "head", "grade_map", {"map": _GRADES}),
    ("position", "pos-head-decisions", "重大决策部署落实", "", "", "head", "completion", {"floor": 0.6}),
    ("position", "pos-head-first-duty", "第一责任人履职", "党建、安全、意识形态第一责任", "", "head", "grade_map", {"map": _GRADES}),
    ("position", "pos-member-portfolio", "分管工作目标完成", "", "", "member", "completion", {"floor": 0.6, "cap": 1.2}),
    ("position", "pos-member-assist", "协助决策", "", "", "member", "grade_map", {"map": _GRADES}),
    ("position", "pos-member-dual-duty", "一岗双责", "业务工作与党风廉政建设", "", "member", "grade_map", {"map": _GRADES}),
    ("position", "pos-other-duty", "岗位职责履行", "", "", "other", "grade_map", {"map": _GRADES}),
    ("position", "pos-other-ability", "业务能力", "", "", "other", "steps", {"steps": [[90, 1.0], [80, 0.85], [60, 0.6]], "below": 0.0}),
    ("position", "pos-other-style", "工作作风", "", "", "other", "bonus_deduction", {"base": 1.0, "per_unit": -0.1, "min_rate": 0.0}),
)  # fmt: skip
# Leaves of these self-building level-2 aspects draw on a basic library entry.
LIBRARY_LINKS: Final = {
    "理论学习": "basic-political",
    "民主集中制": "basic-rules",
    "中央八项规定精神落实": "basic-integrity",
}

# --- facts (a year of results, ratings, votes and adjustments) -----------------------------------
# Ballots per entity and rater group, as (min, max), by scale; each ballot rates every item of its
# subject (units: overall; officials: 德能勤绩廉 from every group, the portfolio from org and leaders).
# Province sizes are set so that a cycle holds ~10 million individual ratings.
BALLOTS: Final[dict[str, dict[str, dict[str, tuple[int, int]]]]] = {
    "tiny": {
        "unit": {"org": (3, 5), "leaders": (2, 4), "peers": (6, 10), "public": (8, 14), "third_party": (5, 8), "media": (1, 3)},
        "official": {"org": (2, 4), "leaders": (1, 3), "peers": (4, 8), "public": (5, 9)},
    },
    "prefecture": {
        "unit": {"org": (5, 9), "leaders": (4, 8), "peers": (30, 60), "public": (40, 80), "third_party": (30, 60), "media": (5, 15)},
        "official": {"org": (5, 9), "leaders": (1, 6), "peers": (10, 25), "public": (30, 60)},
    },
    "province": {
        "unit": {"org": (3, 6), "leaders": (2, 5), "peers": (10, 20), "public": (20, 40), "third_party": (10, 20), "media": (2, 6)},
        "official": {"org": (2, 4), "leaders": (1, 4), "peers": (5, 9), "public": (5, 8)},
    },
}  # fmt: skip
# Satisfaction scale (很满意 100 / 满意 80 / 基本满意 60 / 不太满意 30 / 不满意 0) used by these groups;
# the others score 60–100.
SATISFACTION_GROUPS: Final = ("public", "third_party", "media")
SATISFACTION_SCALE: Final = (100.0, 80.0, 60.0, 30.0, 0.0)
# Democratic-evaluation voters per official (优秀/称职/基本称职/不称职), and the share of officials
# whose 基本称职 + 不称职 votes exceed one third (the hard rule then forces 基本称职).
VOTERS: Final = (25, 60)
NEGATIVE_VOTE_SHARE: Final = 0.01
# Adjustments per cycle by scale: (deductions, admonish, warning, accountable, serious_warning,
# removal, veto_excellent, no_grade, falsification, debt_over_limit).
ADJUSTMENTS: Final[dict[str, tuple[int, ...]]] = {
    "tiny": (4, 1, 0, 1, 0, 0, 1, 1, 1, 1),
    "prefecture": (28, 3, 1, 2, 1, 0, 1, 1, 1, 1),
    "province": (40_000, 3_000, 1_500, 1_500, 800, 200, 500, 700, 100, 100),
}
SUPERVISION_REASONS: Final = (
    "重点督办事项未按期办结", "督查通报问题整改不到位", "领导批示件办理超期", "月度督查进度滞后",
    "信访事项办理不及时", "安全隐患整改不到位", "专项督查发现台账不实",
)  # fmt: skip
SANCTION_REASONS: Final[dict[str, str]] = {
    "admonish": "督查发现履职不力，予以诫勉",
    "warning": "违反工作纪律，给予警告处分",
    "post_adjustment": "工作失误造成不良影响，调整职务",
    "accountable": "重大项目推进不力被追责问责",
    "serious_warning": "违反中央八项规定精神，给予严重警告处分",
    "major": "违纪违法，给予记大过处分",
    "removal": "严重违纪，撤销党内职务",
}

# --- demo accounts ----------------------------------------------------------------------------
DEMO_PASSWORD: Final = "jixiao-demo-2025"  # demo only: printed by `jixiao demo`, never for production

#!/usr/bin/env python3
"""Writes Catalog/demo.json: the demo marketplace that `bangfu serve --demo` loads into an empty
database. Deterministic: run it again and the file is the same. One cooperative per 脱贫县, twelve
products each across every category, plausible Chinese titles, specifications and prices (fen)."""
import json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

def credit_code(area, serial):
    body = "93" + area + "MA" + format(serial, "07X").replace("I", "J").replace("O", "P")
    body = "".join(c if c in ALPHABET else "1" for c in body)[:17]
    s = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + ALPHABET[(31 - s % 31) % 31]

# (category id, item, specification, unit, price range in yuan, labels that fit)
ITEMS = [
    ("rice", "大米", ["5kg/袋", "10kg/袋", "2.5kg/盒"], "袋", (39, 129), ["green", "black_soil", "geo_indication", "non_gmo"]),
    ("rice", "稻花香大米", ["5kg/袋", "10kg/袋"], "袋", (59, 169), ["green", "black_soil", "organic"]),
    ("coarse-grains", "小米", ["2.5kg/袋", "5kg/袋"], "袋", (29, 79), ["green", "non_gmo"]),
    ("coarse-grains", "红小豆", ["1kg/袋", "2.5kg/袋"], "袋", (18, 49), ["non_gmo"]),
    ("coarse-grains", "绿豆", ["1kg/袋", "2.5kg/袋"], "袋", (16, 45), ["non_gmo"]),
    ("coarse-grains", "鲜食玉米", ["10穗/箱", "20穗/箱"], "箱", (39, 88), ["green", "non_gmo"]),
    ("edible-oil", "非转基因大豆油", ["5L/桶", "1.8L/瓶"], "桶", (45, 119), ["non_gmo"]),
    ("edible-oil", "亚麻籽油", ["500ml/瓶", "1L/瓶"], "瓶", (38, 98), ["green"]),
    ("beef", "冷鲜牛腱子", ["1kg/袋", "2kg/箱"], "袋", (89, 198), ["compliance_certificate"]),
    ("beef", "雪花牛排", ["1kg/盒"], "盒", (128, 268), ["compliance_certificate"]),
    ("pork", "黑猪五花肉", ["1kg/袋", "2.5kg/箱"], "袋", (45, 139), ["compliance_certificate"]),
    ("pork", "猪肉分割礼盒", ["5kg/箱"], "箱", (199, 368), ["compliance_certificate"]),
    ("poultry-eggs", "笨鸡蛋", ["30枚/箱", "60枚/箱"], "箱", (39, 99), ["compliance_certificate", "green"]),
    ("poultry-eggs", "散养大鹅", ["3kg/只"], "只", (128, 198), ["compliance_certificate"]),
    ("potato", "马铃薯", ["5kg/箱", "10kg/箱"], "箱", (19, 49), ["green"]),
    ("potato", "土豆粉条", ["2.5kg/袋"], "袋", (28, 58), []),
    ("other-vegetables", "大白菜", ["10kg/箱"], "箱", (15, 35), ["compliance_certificate"]),
    ("other-vegetables", "干豆角", ["500g/袋"], "袋", (25, 48), []),
    ("black-fungus", "黑木耳", ["250g/袋", "500g/袋"], "袋", (35, 99), ["geo_indication", "green", "organic"]),
    ("black-fungus", "椴木黑木耳", ["250g/盒", "500g/盒"], "盒", (49, 129), ["organic"]),
    ("shiitake", "干香菇", ["250g/袋", "500g/袋"], "袋", (29, 79), ["green"]),
    ("other-fungi", "榛蘑", ["250g/袋"], "袋", (48, 128), ["green"]),
    ("other-fungi", "猴头菇", ["250g/盒"], "盒", (58, 158), ["organic"]),
    ("herbal", "刺五加茶", ["100g/罐"], "罐", (38, 88), []),
    ("herbal", "五味子", ["500g/袋"], "袋", (45, 108), ["geo_indication"]),
    ("fruit-nuts", "蓝莓鲜果", ["125g×4盒/箱"], "箱", (68, 138), ["green"]),
    ("fruit-nuts", "野生榛子", ["500g/袋", "1kg/袋"], "袋", (39, 109), []),
    ("fruit-nuts", "沙果", ["5kg/箱"], "箱", (29, 59), []),
    ("bee-products", "椴树蜂蜜", ["500g/瓶", "1kg/瓶"], "瓶", (49, 139), ["geo_indication", "organic"]),
    ("bee-products", "雪蜜", ["500g/瓶"], "瓶", (59, 129), []),
    ("hemp", "汉麻籽", ["500g/袋"], "袋", (29, 69), []),
    ("hemp", "汉麻籽油", ["500ml/瓶"], "瓶", (69, 159), []),
    ("condiments", "大酱", ["1kg/桶", "2.5kg/桶"], "桶", (19, 49), []),
    ("condiments", "辣白菜", ["1kg/盒"], "盒", (19, 39), []),
    ("dairy", "鲜牛奶", ["250ml×12/箱"], "箱", (39, 69), ["compliance_certificate"]),
    ("dairy", "奶酪棒", ["500g/袋"], "袋", (35, 69), []),
    ("aquatic", "冷水鱼（鲤鱼）", ["2kg/条"], "条", (39, 89), ["compliance_certificate"]),
    ("aquatic", "大马哈鱼段", ["1kg/袋"], "袋", (98, 198), ["geo_indication"]),
    ("beverages", "黑豆浆粉", ["500g/袋"], "袋", (25, 49), []),
    ("beverages", "沙棘汁", ["300ml×12/箱"], "箱", (59, 99), []),
    ("specialty", "红肠", ["500g/袋", "1kg/袋"], "袋", (39, 89), ["compliance_certificate"]),
    ("specialty", "大列巴面包", ["1.5kg/个"], "个", (39, 69), []),
]
QUALITIES = ["", "富硒", "寒地", "有机", "农家", "精选", "特级", "生态", "当季", "山野"]
STYLES = ["专业合作社", "农民专业合作社", "农业发展有限公司", "家庭农场", "食品有限公司"]

def main():
    counties = json.load(open(os.path.join(HERE, "..", "counties.json"), encoding="utf-8"))
    rnd = random.Random(832)
    merchants, products = [], []
    for index, county in enumerate(counties):
        short = county["name"].replace("蒙古族自治县", "").rstrip("县市")
        name = f"{short}{rnd.choice(['丰源', '禾润', '绿野', '兴农', '黑土', '福民', '山河', '兴旺'])}{STYLES[index % len(STYLES)]}"
        merchants.append({
            "username": f"demo-m{index + 1:02d}", "companyName": name,
            "creditCode": credit_code(county["code"], 1000 + index), "countyCode": county["code"],
            "legalRepresentative": rnd.choice(["王德福", "李秀兰", "张国庆", "刘春华", "赵永强", "孙丽娟"]),
            "contactName": rnd.choice(["陈静", "杨帆", "周明", "吴敏", "郑强"]),
            "contactPhone": "13" + str(rnd.randint(100000000, 999999999)),
            "address": f"黑龙江省{county['prefecture']}{county['name']}{rnd.choice(['兴隆镇', '中和镇', '太平乡', '新华村'])}",
            "bankName": rnd.choice(["中国农业银行", "中国邮政储蓄银行", "黑龙江农村商业银行"]) + f"{short}支行",
            "bankAccount": "6228" + str(rnd.randint(10**14, 10**15 - 1)),
            "householdsDriven": rnd.randint(20, 600),
        })
        # Twelve products: the first rotate through the whole item list so every category is covered.
        for k in range(12):
            category, item, specs, unit, (low, high), labels = ITEMS[(index * 12 + k) % len(ITEMS)]
            quality = QUALITIES[(index + k) % len(QUALITIES)]
            spec = rnd.choice(specs)
            price = rnd.randint(low, high) * 100 + rnd.choice([0, 0, 50, 80, 90])
            chosen = sorted(set(l for l in labels if rnd.random() < 0.6))
            if quality == "有机" and "organic" not in chosen and category not in ("beef", "pork"):
                chosen = sorted(set(chosen + ["organic"]))
            products.append({
                "merchant": index, "title": f"{short}{quality}{item} {spec}", "categoryId": category,
                "description": f"产自{county['prefecture']}{county['name']}，{rnd.choice(['脱贫户种植', '合作社统一收购', '订单农业', '基地直供'])}，"
                               f"{rnd.choice(['当年新货', '冷链配送', '检测合格', '品质稳定', '可开发票'])}，适合机关食堂批量采购。",
                "specification": spec, "unit": unit, "priceFen": price, "stock": rnd.randint(50, 5000),
                "originCountyCode": county["code"], "labels": chosen,
            })
    buyers = [
        {"username": f"demo-buyer{i + 1}", "displayName": name}
        for i, name in enumerate(["省直机关第一食堂", "哈尔滨市政府机关食堂", "齐齐哈尔市第二中学食堂", "佳木斯市人民医院食堂", "绥化市委党校食堂"])
    ]
    demo = {"merchants": merchants, "buyers": buyers, "products": products}
    with open(os.path.join(HERE, "..", "demo.json"), "w", encoding="utf-8") as f:
        json.dump(demo, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(merchants)} merchants, {len(products)} products, {len(buyers)} buyers")

if __name__ == "__main__":
    main()

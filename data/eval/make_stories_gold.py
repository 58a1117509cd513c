"""Write data/eval/stories_gold.csv from the hand labels below (how they were made: docs/STORIES.md).

    python data/eval/make_stories_gold.py [SHARED]     (SHARED default /work/shared)

Every ryanair, asia_bibi and brexit article under SHARED/eval-dev/bsnlp/raw gets a row `path,story,split`
with its path relative to SHARED; articles not listed below get a story of their own.
"""
import csv
import re
import sys
from pathlib import Path

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared")
R = SHARED / "eval-dev" / "bsnlp" / "raw"
OUT = Path(__file__).resolve().parent / "stories_gold.csv"
L = {}
def lab(story, prefix, nums):
    for n in nums.split():
        key = f"{prefix}{n}"
        assert key not in L, key
        L[key] = story
# ---- ryanair (ru = ryan-ru_file_N, ua = ryan-ua_file_N in uk/, x = ryanair_ru_2019.xml_file_N)
lab("ry-jul25-cabin-strike", "ru", "1 27 28 30 31 32 33 34 35 38 39 40 41 43 44 45 46 47 48 49 52 53 54 55 58 61 63 64 65 67 68 69 72 75")
lab("ry-jul25-cabin-strike", "ua", "66 67 68 69 76 78 80 92 98 99 112 118 122 124")
lab("ry-jul12-irish-pilots", "ru", "23 24"); lab("ry-jul12-irish-pilots", "ua", "70")
lab("ry-aug10-pilots-strike", "ru", "2 3 4 5 6 7 8 9 10 11 12 13 14 15 77 78 79 80 81 83 87 88 89 90 91 92 93 94 95 96 99 101 102 103 104 105 106 107 109")
lab("ry-aug10-pilots-strike", "ua", "137 140 150 153 155 157 159 161 164 168 169 170 172 173 174")
lab("ry-aug23-forsa-deal", "ru", "112 113")
lab("ry-sep12-germany-strike", "ru", "115 118 119 120 121 122 123 124 128 129 130 133")
lab("ry-sep12-germany-strike", "ua", "194 197 202 204 206 208 211 212 215 219 223 225")
lab("ry-sep28-cabin-strike", "ru", "16 17 18 19 125 126 127 131 132 135 136 137 138 139 140 141 142 144 145 146 147 149 150 153 154 155 156 159 160 163")
lab("ry-sep28-cabin-strike", "ua", "231 235 240 247 248 262 267 270 271 276 278 279 291")
lab("ry-brussels-handlers-strike", "ru", "166 168 169")
lab("ry-may8-italy-atc-strike", "ru", "171 172 173 174 175 176 177")
lab("ry-airlines-complain-french-atc", "ru", "71"); lab("ry-airlines-complain-french-atc", "ua", "120")
lab("ry-q1-profit-down", "ru", "37 42")
lab("ry-closes-two-bases", "ru", "158"); lab("ry-closes-two-bases", "ua", "285")
lab("ry-lapff-investors", "ru", "170"); lab("ry-lapff-investors", "ua", "315")
lab("ry-which-worst-airline", "x", "14 15 22")
# ---- asia_bibi (a = asia_bibi_ru.txt_file_N, ax = ..._ru_extra.txt, an = ..._ru_new.txt, u = asia_bibi_uk.txt)
lab("ab-oct31-acquittal-protests", "a", "2 3 4 5 89 90 91 92 95 96 97 98 99 102 103 104 105 106 107 108 109 110 111 112 113 114 116 117 118 119 120 121 122 123 124 125 126 129 133 134 135 145 146 147 148 149 150 155 186")
lab("ab-nov1-may-leave", "a", "94 115")
lab("ab-nov2-deal-exit-ban", "a", "127 130 131 143 152 156")
lab("ab-nov3-lawyer-flees", "a", "128 136 138 142 151")
lab("ab-nov4-husband-asylum", "a", "132 137 139 140 141 153 154"); lab("ab-nov4-husband-asylum", "u", "1 2 3")
lab("ab-nov8-released", "a", "164 165 168 169 171 172 174 176 177 179 180 181 182 183 184 185 187")
lab("ab-nov12-canada-talks", "a", "157 158 159 160 188")
lab("ab-netherlands-asylum", "a", "162 170")
lab("ab-germany-ready", "a", "193 194")
lab("ab-nov23-tlp-leader-arrest", "a", "195 196 197 202 203"); lab("ab-nov23-tlp-leader-arrest", "u", "5")
lab("ab-jan29-review-rejected", "an", "1 2 3 4")
# ---- brexit (br = brexit_ru.txt_file_N in ru/, bu = brexit_ua.txt_file_N in uk/); per-article notes with the
#      event and the date the text gives: data/eval/brexit_notes.csv
lab("bx-jul8-davis-resigns", "br", "1026 1031 1037 1043 1084 1098 1130 1213 1234 1236 1237")
lab("bx-jul9-raab-appointed", "br", "1008 1022 1024 1027 1028 1029 1032 1033 1034 1036 1038 1041 1042 1044 1045 1052 1055 1095 1096 1097 1099 1100 1102 1103 1104 1105 1106 1107")
lab("bx-jul9-johnson-resigns", "br", "104 105 106 107 1000 1001 1002 1003 1004 1005 1006 1010 1011 1012 1013 1014 1015 1017 1019 1046 1047 1048 1050 1051 1054 1057 1058 1059 1060 1061 1062 1063 1064 1065 1066 1068 1069 1070 1071 1073 1074 1075 1076 1077 1078 1079 1080 1085 1086 1087 1088 1089 1090 1092 1093 1094 1110 1111 1112 1113 1114 1116 1117 1118 1119 1123 1129 1133 1138 1143 1146 1147 1150 1161 1163 1166 1168 1170 1174 1211")
lab("bx-jul9-hunt-appointed", "br", "108 1124 1139 1142 1148 1151 1155 1156 1157 1158 1164 1165")
lab("bx-jul10-hunt-skripal-remarks", "br", "1154 1160 1162")
lab("bx-jul9-may-commons-plan", "br", "1067 1153")
lab("bx-jul9-trump-visit-on", "br", "1126 1128")
lab("bx-jul10-white-paper-thursday", "br", "103 1131 1132")
lab("bx-bolton-eurosceptics", "br", "111 112 113 114 116 117")
lab("bx-leave-eu-russia-meetings", "br", "1025"); lab("bx-leave-eu-russia-meetings", "bu", "102")
lab("bx-nov14-draft-deal-cabinet-crisis", "bu", "1007 1015 1022")
lab("bx-nov15-may-press-conference", "bu", "1012 1013 1014 1016")
lab("bx-nov16-barclay-appointed", "bu", "1000 1001 1002 1003 1004 1005 1008")
lab("bx-nov18-may-seven-days", "bu", "1019 1020 1021 1026 1027")
lab("bx-nov18-army-no-deal-plan", "bu", "1018 1041")
lab("bx-nov18-barnier-transition-2022", "bu", "1033 1034 1043 1044 1046 1047 1049")
lab("bx-nov19-eu-ministers-back-deal", "bu", "1029 1030 1031 1032 1035 1036")
lab("bx-nov19-may-cbi-speech", "bu", "1040 1045")
lab("bx-may-whisky-interview", "bu", "1023 1024")
PREFIX = {"ryan-ru_file_": "ru", "ryan-ua_file_": "ua", "ryanair_ru_2019.xml_file_": "x",
          "asia_bibi_ru.txt_file_": "a", "asia_bibi_ru_extra.txt_file_": "ax", "asia_bibi_ru_new.txt_file_": "an",
          "asia_bibi_uk.txt_file_": "u",
          "brexit_ru.txt_file_": "br", "brexit_ua.txt_file_": "bu"}
rows, used = [], set()
for topic in ("ryanair", "asia_bibi", "brexit"):
    for f in sorted((R / topic).glob("*/*.txt")):
        m = re.match(r"(.*_file_)(\d+)\.txt$", f.name)
        key = PREFIX[m.group(1)] + m.group(2)
        story = L.get(key)
        used.add(key)
        if story is None:
            story = f"single-{topic}-{key}"
        if topic == "brexit":
            split = "report-brexit"
        elif topic == "asia_bibi":
            split = "report-topic"
        else:
            split = "tune" if int(m.group(2)) % 2 else "report"
        rows.append((f.relative_to(SHARED).as_posix(), story, split))
assert not set(L) - used, set(L) - used
with open(OUT, "w", newline="", encoding="utf-8") as fh:
    w = csv.writer(fh); w.writerow(["path", "story", "split"]); w.writerows(rows)
print(len(rows), len({r[1] for r in rows}))

"""Reference data for realistic populations, with their sources.

Figures marked approx. come from press reports of the DGEF's annual figures for 2024
(shared/reference-data.md): about 4.33 million valid residence permits on 31 December 2024;
Algeria 649,991 (≈15 %), Morocco 617,053 (≈14 %), Tunisia 304,287 (≈7 %). The shares of the
other nationalities, of card kinds and motifs and of départements are *illustrative* orders of
magnitude chosen for realism, not official statistics; a campaign file can replace any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

# ISO 3166-1 alpha-3 → (French name, Faker locale for names). Where Faker has no locale with
# Latin-script names for a country, the closest one is used and said so.
NATIONALITIES: dict[str, tuple[str, str]] = {
    "DZA": ("Algérie", "fr_DZ"),
    "MAR": ("Maroc", "fr_DZ"),  # no fr_MA in Faker: Maghrebi names of fr_DZ
    "TUN": ("Tunisie", "fr_DZ"),  # no fr_TN in Faker: Maghrebi names of fr_DZ
    "TUR": ("Turquie", "tr_TR"),
    "SEN": ("Sénégal", "fr_FR"),  # no West African francophone locale in Faker
    "CIV": ("Côte d'Ivoire", "fr_FR"),
    "MLI": ("Mali", "fr_FR"),
    "CMR": ("Cameroun", "fr_FR"),
    "COM": ("Comores", "fr_DZ"),
    "CHN": ("Chine", "zh_CN"),  # romanized names
    "HTI": ("Haïti", "fr_FR"),
    "UKR": ("Ukraine", "uk_UA"),  # transliterated
    "RUS": ("Russie", "ru_RU"),  # transliterated
    "IND": ("Inde", "en_IN"),
    "PAK": ("Pakistan", "en_PK"),
    "VNM": ("Viêt Nam", "vi_VN"),
    "BRA": ("Brésil", "pt_BR"),
    "NGA": ("Nigéria", "yo_NG"),
    "USA": ("États-Unis", "en_US"),
    "GIN": ("Guinée", "fr_FR"),
}

DEFAULT_NATIONALITY_MIX: dict[str, float] = {
    "DZA": 0.150,  # DGEF 2024, approx.: 649,991 of 4.33 M
    "MAR": 0.142,  # DGEF 2024, approx.: 617,053 of 4.33 M
    "TUN": 0.070,  # DGEF 2024, approx.: 304,287 of 4.33 M
    "TUR": 0.070,
    "SEN": 0.050,
    "CIV": 0.050,
    "MLI": 0.045,
    "CMR": 0.035,
    "COM": 0.030,
    "CHN": 0.050,
    "HTI": 0.030,
    "UKR": 0.050,
    "RUS": 0.025,
    "IND": 0.030,
    "PAK": 0.025,
    "VNM": 0.025,
    "BRA": 0.030,
    "NGA": 0.025,
    "USA": 0.030,
    "GIN": 0.038,
}

# Card kinds and how long each is issued for (years). Algerian nationals hold a certificat de
# résidence algérien (Franco-Algerian agreement of 1968) instead of the CESEDA cards, so the
# kind mix applies to the other nationalities.
CARD_YEARS: dict[str, tuple[int, ...]] = {
    "carte_temporaire": (1,),
    "carte_pluriannuelle": (2, 4),
    "carte_resident": (10,),
    "certificat_residence_algerien": (1, 10),
}
ALGERIAN_CARD = "certificat_residence_algerien"
DEFAULT_CARD_KIND_MIX: dict[str, float] = {
    "carte_temporaire": 0.30,
    "carte_pluriannuelle": 0.35,
    "carte_resident": 0.35,
}
# Motifs by card kind; family reasons lead (37 % of 2024 renewals, DGEF approx.).
MOTIFS: dict[str, dict[str, float]] = {
    "carte_temporaire": {
        "etudiant": 0.35,
        "vie_privee_familiale": 0.30,
        "salarie": 0.20,
        "visiteur": 0.05,
        "humanitaire": 0.10,
    },
    "carte_pluriannuelle": {
        "vie_privee_familiale": 0.45,
        "salarie": 0.25,
        "talent": 0.10,
        "etudiant": 0.05,
        "humanitaire": 0.15,
    },
    "carte_resident": {"vie_privee_familiale": 0.50, "resident_longue_duree": 0.30, "refugie": 0.20},
    "certificat_residence_algerien": {
        "vie_privee_familiale": 0.60,
        "salarie": 0.20,
        "etudiant": 0.12,
        "retraite": 0.08,
    },
}
# Age range (years at the reference date) that fits a motif.
AGES: dict[str, tuple[int, int]] = {"etudiant": (18, 30), "retraite": (62, 85), "resident_longue_duree": (28, 75)}
DEFAULT_AGES = (20, 68)


@dataclass(frozen=True)
class Departement:
    name: str
    communes: tuple[tuple[str, str], ...]  # (commune, postcode)


# Where applicants live (the prefecture that handles them). About four in ten immigrants live
# in Île-de-France (INSEE, approx.); the rest of the split is illustrative.
DEPARTEMENTS: dict[str, Departement] = {
    "75": Departement(
        "Paris", (("Paris", "75011"), ("Paris", "75018"), ("Paris", "75019"), ("Paris", "75020"), ("Paris", "75013"))
    ),
    "93": Departement(
        "Seine-Saint-Denis",
        (("Saint-Denis", "93200"), ("Aubervilliers", "93300"), ("Montreuil", "93100"), ("Bobigny", "93000")),
    ),
    "92": Departement("Hauts-de-Seine", (("Nanterre", "92000"), ("Gennevilliers", "92230"), ("Colombes", "92700"))),
    "94": Departement(
        "Val-de-Marne", (("Créteil", "94000"), ("Vitry-sur-Seine", "94400"), ("Ivry-sur-Seine", "94200"))
    ),
    "95": Departement("Val-d'Oise", (("Argenteuil", "95100"), ("Sarcelles", "95200"), ("Cergy", "95000"))),
    "91": Departement("Essonne", (("Évry-Courcouronnes", "91000"), ("Corbeil-Essonnes", "91100"), ("Massy", "91300"))),
    "78": Departement("Yvelines", (("Versailles", "78000"), ("Mantes-la-Jolie", "78200"), ("Trappes", "78190"))),
    "77": Departement("Seine-et-Marne", (("Meaux", "77100"), ("Melun", "77000"), ("Chelles", "77500"))),
    "13": Departement(
        "Bouches-du-Rhône", (("Marseille", "13003"), ("Marseille", "13015"), ("Aix-en-Provence", "13090"))
    ),
    "69": Departement("Rhône", (("Lyon", "69007"), ("Villeurbanne", "69100"), ("Vénissieux", "69200"))),
    "59": Departement("Nord", (("Lille", "59000"), ("Roubaix", "59100"), ("Tourcoing", "59200"))),
    "06": Departement("Alpes-Maritimes", (("Nice", "06300"), ("Cannes", "06400"), ("Antibes", "06600"))),
    "31": Departement("Haute-Garonne", (("Toulouse", "31000"), ("Toulouse", "31200"), ("Colomiers", "31770"))),
    "33": Departement("Gironde", (("Bordeaux", "33000"), ("Mérignac", "33700"), ("Pessac", "33600"))),
    "67": Departement("Bas-Rhin", (("Strasbourg", "67000"), ("Schiltigheim", "67300"))),
    "34": Departement("Hérault", (("Montpellier", "34000"), ("Béziers", "34500"))),
    "38": Departement("Isère", (("Grenoble", "38000"), ("Échirolles", "38130"))),
    "44": Departement("Loire-Atlantique", (("Nantes", "44000"), ("Saint-Nazaire", "44600"))),
    "57": Departement("Moselle", (("Metz", "57000"), ("Thionville", "57100"))),
    "68": Departement("Haut-Rhin", (("Mulhouse", "68100"), ("Colmar", "68000"))),
    "42": Departement("Loire", (("Saint-Étienne", "42000"), ("Roanne", "42300"))),
    "83": Departement("Var", (("Toulon", "83000"), ("Fréjus", "83600"))),
    "35": Departement("Ille-et-Vilaine", (("Rennes", "35000"), ("Saint-Malo", "35400"))),
    "45": Departement("Loiret", (("Orléans", "45000"),)),
    "76": Departement("Seine-Maritime", (("Rouen", "76000"), ("Le Havre", "76600"))),
    "60": Departement("Oise", (("Creil", "60100"), ("Beauvais", "60000"))),
    "30": Departement("Gard", (("Nîmes", "30000"),)),
    "84": Departement("Vaucluse", (("Avignon", "84000"),)),
    "74": Departement("Haute-Savoie", (("Annecy", "74000"), ("Annemasse", "74100"))),
    "63": Departement("Puy-de-Dôme", (("Clermont-Ferrand", "63000"),)),
}
DEFAULT_PREFECTURE_MIX: dict[str, float] = {
    "75": 0.110,
    "93": 0.105,
    "92": 0.050,
    "94": 0.050,
    "95": 0.040,
    "91": 0.035,
    "78": 0.030,
    "77": 0.030,
    "13": 0.050,
    "69": 0.050,
    "59": 0.040,
    "06": 0.040,
    "31": 0.025,
    "33": 0.025,
    "67": 0.025,
    "34": 0.025,
    "38": 0.020,
    "44": 0.020,
    "57": 0.025,
    "68": 0.020,
    "42": 0.020,
    "83": 0.020,
    "35": 0.020,
    "45": 0.015,
    "76": 0.020,
    "60": 0.020,
    "30": 0.020,
    "84": 0.015,
    "74": 0.020,
    "63": 0.015,
}
STREET_TYPES = ("rue", "avenue", "boulevard", "allée", "impasse", "place", "chemin")
# Reserved example domains (RFC 2606): no real person can own these addresses.
EMAIL_DOMAINS = ("courriel.example.org", "messagerie.example.net", "boite.example.com", "exemple.example.org")
BOUNCE_DOMAIN = "rebond.example.net"  # the mailbox refuses this domain, as a dead mailbox would

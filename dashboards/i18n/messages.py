"""The report's messages in French (the default: the ministry reads it) and English.

Each message is one entry ``key: (French, English)`` so that a sentence and its translation are
read and changed together. Messages hold no markup: the template escapes everything it prints.
The defects' titles and explanations are not here: each defect declares its own
(``checks.defects``).
"""

from __future__ import annotations

SOURCE_DDD = (
    "Défenseure des droits, rapport « L'Administration numérique pour les étrangers en France (ANEF) : une "
    "dématérialisation à l'origine d'atteintes massives aux droits des usagers » (décembre 2024) ; Assemblée "
    "nationale, question écrite n° 4677 (17e législature)",
    "Défenseure des droits (the French rights ombudsman), report “L'Administration numérique pour les étrangers en "
    "France (ANEF) : une dématérialisation à l'origine d'atteintes massives aux droits des usagers” (December 2024); "
    "Assemblée nationale, written question no. 4677 (17th legislature)",
)

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("Rapport de campagne — {campaign}", "Campaign report — {campaign}"),
    "run": ("Exécution", "Run"),
    "period": ("Période", "Period"),
    "period_value": ("du {start} au {end}", "from {start} to {end}"),
    "target": ("Cible", "Target"),
    "target_embedded": ("plateforme de référence intégrée ({url})", "embedded reference platform ({url})"),
    "seed": ("Graine", "Seed"),
    "status": ("Statut", "Status"),
    "unknown": ("inconnu", "unknown"),
    "none": ("aucun", "none"),
    "verdict": ("Verdict", "Verdict"),
    "verdict_pass": ("CONFORME", "PASS"),
    "verdict_fail": ("NON CONFORME", "FAIL"),
    "verdict_pass_why": (
        "Tous les SLO sont tenus, aucun défaut documenté de l'ANEF n'a été détecté et rien n'a décalé "
        "par rapport à la référence.",
        "Every SLO is met, no documented ANEF defect was detected and nothing shifted against the baseline.",
    ),
    "verdict_fail_why": (
        "SLO manqués : {breached} · défauts documentés détectés : {defects} · "
        "décalages par rapport à la référence : {shifts}.",
        "SLOs breached: {breached} · documented defects detected: {defects} · shifts against the baseline: {shifts}.",
    ),
    "partial": (
        "Résultats partiels : la campagne ne s'est pas terminée normalement (statut : {status}). Les chiffres ne "
        "portent que sur ce qui a été enregistré.",
        "Partial results: the campaign did not end normally (status: {status}). The figures cover only what was "
        "recorded.",
    ),
    "problem": ("Problème signalé par le banc d'essai", "Problem reported by the harness"),
    "status.complete": ("terminée", "complete"),
    "status.partial": ("partielle", "partial"),
    "status.interrupted": ("interrompue", "interrupted"),
    "status.failed": ("en échec", "failed"),
    "status.running": ("en cours", "running"),
    "status.aborted": (
        "abandonnée : le banc d'essai s'est arrêté sans la finir (tué ou planté)",
        "aborted: the harness stopped without finishing it (killed or crashed)",
    ),
    "rights_heading": ("Droits menacés (projection)", "Rights at risk (projection)"),
    "rights_label": (
        "demandeurs synthétiques risqueraient de perdre leur droit au séjour",
        "synthetic applicants would be at risk of losing legal residence",
    ),
    "rights_explained": (
        "Leur dernière demande de renouvellement a échoué et leur délai de dépôt (jusqu'au 60e jour avant "
        "l'expiration du titre, CESEDA art. R.431-5) se ferme avant qu'une nouvelle tentative soit possible, "
        "supposée dans {horizon} jours. Renouvellements échoués : {failed} ; date de référence : {date}.",
        "Their last renewal attempt failed and their filing window (until the 60th day before the card expires, "
        "CESEDA art. R.431-5) closes before another attempt is possible, assumed in {horizon} days. Failed "
        "renewals: {failed}; reference date: {date}.",
    ),
    "rights_projection": (
        "C'est une projection sur des demandeurs synthétiques créés par le banc d'essai, pas un constat sur des "
        "personnes réelles : s'ils avaient été réels, chacun risquerait de perdre son droit au séjour. Seule une "
        "demande complète déposée à temps donne droit à l'attestation de prolongation d'instruction (CESEDA art. "
        "R.431-15-1).",
        "This is a projection about synthetic applicants created by the harness, not a fact about real people: had "
        "they been real, each would be at risk of losing legal residence. Only a complete application filed on time "
        "earns the attestation de prolongation d'instruction (CESEDA art. R.431-15-1).",
    ),
    "rights_missing": (
        "Non calculé : campaign.yaml est absent ou illisible.",
        "Not computed: campaign.yaml is missing or unreadable.",
    ),
    "rights_urgent": ("Les plus urgents", "Most urgent"),
    "applicant": ("Demandeur", "Applicant"),
    "failed_step": ("Étape en échec", "Failed step"),
    "outcome": ("Issue", "Outcome"),
    "card_expires": ("Fin de validité du titre", "Card expires"),
    "days_left": ("Jours pour déposer", "Days left to file"),
    "message": ("Message", "Message"),
    "slos_heading": (
        "Objectifs de service (SLO) et budget d'erreur",
        "Service level objectives (SLOs) and error budget",
    ),
    "slos_intro": (
        "Un SLO est tenu quand la part d'essais réussis (SLI) atteint l'objectif. Le budget d'erreur consommé "
        "rapporte les échecs observés aux échecs permis : au-delà de 100 %, l'objectif est manqué. Le taux de "
        "consommation vaut 1 quand la campagne dépense exactement son budget.",
        "An SLO is met when the share of good attempts (SLI) reaches the objective. Error budget consumed compares "
        "the failures seen with those allowed: above 100% the objective is breached. A burn rate of 1 spends "
        "exactly the budget.",
    ),
    "slos_count": (
        "Tenus : {met} · manqués : {breached} · sans données : {nodata}",
        "Met: {met} · breached: {breached} · no data: {nodata}",
    ),
    "slos_none": ("Aucun SLO évalué.", "No SLO evaluated."),
    "slos_breached": ("SLO manqués", "SLOs breached"),
    "slos_others": ("SLO tenus ou sans données ({n})", "SLOs met or without data ({n})"),
    "failures_by_outcome": ("Échecs par issue", "Failures by outcome"),
    "slo": ("SLO", "SLO"),
    "objective": ("Objectif", "Objective"),
    "sli": ("SLI", "SLI"),
    "good_total": ("Réussis / total", "Good / total"),
    "budget": ("Budget d'erreur consommé", "Error budget consumed"),
    "burn": ("Taux de consommation", "Burn rate"),
    "state": ("État", "State"),
    "slo.met": ("tenu", "met"),
    "slo.breached": ("manqué", "breached"),
    "slo.nodata": ("sans données", "no data"),
    "steps_heading": ("Taux d'échec par étape", "Failure rate per step"),
    "steps_alt": (
        "Taux d'échec par étape, par issue. Les plus touchées : {top}.",
        "Failure rate per step, by outcome. Most affected: {top}.",
    ),
    "steps_alt_clean": ("Taux d'échec par étape : aucune étape n'a échoué.", "Failure rate per step: no step failed."),
    "steps_axis": ("part des essais en échec", "share of attempts failed"),
    "step": ("Étape", "Step"),
    "attempts": ("Essais", "Attempts"),
    "failure_rate": ("Taux d'échec", "Failure rate"),
    "outcome.ok": ("réussi", "ok"),
    "outcome.error": ("erreur", "error"),
    "outcome.timeout": ("délai dépassé", "timeout"),
    "outcome.blocked": ("refus injustifié", "wrongly refused"),
    "outcome.lost": ("perdu", "lost"),
    "outcome.corrupt": ("altéré", "corrupt"),
    "outcome.missing": ("absent", "missing"),
    "activity_heading": ("Activité au fil de la campagne", "Activity over the campaign"),
    "activity_intro": (
        "Par tranche de {bucket} depuis le début de la charge : le débit (étapes terminées par seconde), les "
        "parcours en cours (leur nombre moyen sur la tranche) et les échecs (étapes terminées en échec par "
        "seconde). Les périodes de pannes injectées et d'exercices sont hachurées et nommées sur le graphique, "
        "et listées dans le tableau qui le suit.",
        "Per {bucket} bucket since the load started: throughput (steps ended per second), journeys in flight "
        "(their average number over the bucket) and failures (steps ended failed per second). Fault and drill "
        "windows are hatched and named on the chart, and listed in the table below it.",
    ),
    "activity_alt": (
        "Débit, parcours en cours et échecs par tranche de {bucket}. Débit le plus haut : {high} étapes par seconde "
        "vers {at} ; au plus {flight} parcours en cours ; échecs les plus nombreux : {failures} par seconde vers "
        "{failed_at}. Périodes de pannes ou d'exercices : {windows}, détaillées dans le tableau suivant.",
        "Throughput, journeys in flight and failures per {bucket} bucket. Highest throughput: {high} steps per "
        "second at about {at}; at most {flight} journeys in flight; most failures: {failures} per second at about "
        "{failed_at}. Fault or drill windows: {windows}, detailed in the next table.",
    ),
    "activity_throughput": ("Débit (étapes par seconde)", "Throughput (steps per second)"),
    "activity_in_flight": ("Parcours en cours", "Journeys in flight"),
    "activity_failures": ("Échecs (étapes en échec par seconde)", "Failures (failed steps per second)"),
    "activity_data": ("Données du graphique ({n} tranches de {bucket})", "Chart data ({n} buckets of {bucket})"),
    "activity_from": ("Début de la tranche (s)", "Bucket start (s)"),
    "windows_caption": ("Périodes de pannes et d'exercices", "Fault and drill windows"),
    "windows_none": ("Aucune panne ni exercice pendant la campagne.", "No fault or drill during the campaign."),
    "window_kind": ("Nature", "Kind"),
    "window_from": ("Du (s)", "From (s)"),
    "window_to": ("Au (s)", "To (s)"),
    "window_what": ("Quoi", "What"),
    "window_moment": ("instant", "moment"),
    "window.fault": ("panne injectée", "injected fault"),
    "window.drill": ("exercice", "drill"),
    "window.platform_down": ("plateforme arrêtée", "platform down"),
    "window.mailbox_down": ("messagerie arrêtée", "mailbox down"),
    "window.cut": ("{dependency} coupé", "{dependency} cut off"),
    "latency_heading": ("Latence au fil de la campagne", "Latency over the campaign"),
    "latency_intro": (
        "Percentiles de la durée des étapes de requête par tranche de {bucket} (les attentes de cohérence *.reconcile, "
        "*.visible et *.email sont à part, section suivante).",
        "Percentiles of request step durations per {bucket} bucket (consistency watches *.reconcile, *.visible and "
        "*.email are apart, next section).",
    ),
    "latency_alt": (
        "Percentiles p50, p95 et p99 de la durée des étapes par tranche de {bucket}. Le p95 va de {low} à {high}, "
        "au plus haut vers {at} après le début.",
        "p50, p95 and p99 of step durations per {bucket} bucket. p95 ranges from {low} to {high}, highest at about "
        "{at} after the start.",
    ),
    "latency_x": ("secondes depuis le début", "seconds since the start"),
    "latency_y": ("durée (ms)", "duration (ms)"),
    "no_events": ("Aucun événement d'étape enregistré.", "No step event recorded."),
    "consistency_heading": ("Délai de cohérence entre usager et préfecture", "Time to consistency across the seam"),
    "consistency_intro": (
        "Temps avant qu'un effet soit visible de l'autre côté (document reçu par la préfecture, demande visible sur le "
        "tableau de bord, courriel reçu), pour les attentes qui ont abouti.",
        "How long an effect took to show on the other side (document received by the prefecture, request visible on "
        "the dashboard, e-mail received), for the watches that succeeded.",
    ),
    "consistency_alt": (
        "Délai de cohérence par attente ; le plus long au p99 : {step}, {value}.",
        "Time to consistency per watch; longest p99: {step}, {value}.",
    ),
    "consistency_none": ("Aucune attente de cohérence n'a abouti.", "No consistency watch succeeded."),
    "watch": ("Attente", "Watch"),
    "defects_heading": ("Défauts détectés", "Defects detected"),
    "defects_intro": (
        "Reconnus à partir de ce que voient les demandeurs et les agents, jamais à partir du registre des pannes "
        "injectées. Catalogue des défauts documentés : {source}.",
        "Recognised from what applicants and agents see, never from the ledger of injected faults. Catalogue of "
        "documented defects: {source}.",
    ),
    "defects_none": ("Aucun défaut détecté.", "No defect detected."),
    "defect_documented": (
        "Défaut documenté de l'ANEF ou faille de sécurité : fait échouer le verdict",
        "Documented ANEF defect or security weakness: fails the verdict",
    ),
    "defect_generic": ("Panne générique : jugée par les SLO", "Generic fault: judged through the SLOs"),
    "defect_figures": (
        "Incidents : {count} · symptômes : {symptoms} · première observation : {first} après le début",
        "Incidents: {count} · symptoms: {symptoms} · first seen: {first} after the start",
    ),
    "defect_lives": ("Ce que vit le demandeur", "What the applicant lives"),
    "samples": ("Exemples observés", "Evidence samples"),
    "finding": ("Constat", "Finding"),
    "recorded": ("Message enregistré (tel quel)", "Message recorded (verbatim)"),
    "dossier_or_object": ("Dossier ou objet", "Dossier or object"),
    "time": ("Heure", "Time"),
    "quality_heading": ("Niveaux de qualité des démarches en ligne", "Service-quality bands of online procedures"),
    "quality_source": (
        "Source : Observatoire de la qualité des démarches en ligne (DINUM). Disponibilité : « faible » sous 98,5 %, "
        "« partiel » sous 99 %, sinon « optimal ». Temps de chargement : « faible » au-delà de 800 ms, « partiel » "
        "au-delà de 400 ms, sinon « optimal ».",
        "Source: Observatoire de la qualité des démarches en ligne (DINUM). Availability: below 98.5% “faible” "
        "(low), below 99% “partiel” (partial), otherwise “optimal”. Page load time: above 800 ms “faible”, above "
        "400 ms “partiel”, otherwise “optimal”.",
    ),
    "indicator": ("Indicateur", "Indicator"),
    "measured": ("Mesure", "Measured"),
    "band": ("Niveau", "Band"),
    "how": ("Méthode", "How it was measured"),
    "availability": ("Disponibilité", "Availability"),
    "availability_how": (
        "part des étapes réussies de bout en bout ({ok} sur {total}) : plus exigeant qu'un code HTTP",
        "share of steps judged ok end to end ({ok} of {total}): stricter than an HTTP status",
    ),
    "page_load": ("Temps de chargement", "Page load time"),
    "page_load_browser": (
        "p95 du chargement des pages mesuré dans le navigateur (Navigation Timing, {n} pages)",
        "p95 of page loads measured in the browser (Navigation Timing, {n} pages)",
    ),
    "page_load_requests": (
        "p95 de la durée des étapes de requête ({n}) : aucune page chargée par un navigateur dans cette campagne",
        "p95 of request step durations ({n}): no page was loaded by a browser in this campaign",
    ),
    "band.faible": ("faible", "low (faible)"),
    "band.partiel": ("partiel", "partial (partiel)"),
    "band.optimal": ("optimal", "optimal"),
    "faults_heading": ("Pannes injectées", "Injected faults"),
    "faults_intro": (
        "Les pannes servent à éprouver la plateforme de référence et à évaluer le banc d'essai ; la détection ne lit "
        "jamais leur registre.",
        "Faults exercise the reference platform and score the harness; detection never reads their ledger.",
    ),
    "faults_profile": ("Profil au démarrage", "Profile from the start"),
    "faults_configured": ("Pannes configurées", "Faults configured"),
    "fault": ("Panne", "Fault"),
    "rate": ("Taux effectif", "Effective rate"),
    "note": ("Remarque", "Note"),
    "faults_changes": ("Changements appliqués pendant la campagne", "Changes applied during the campaign"),
    "faults_no_changes": ("Aucun changement en cours de campagne.", "No change during the campaign."),
    "at": ("À (s)", "At (s)"),
    "applied": ("Appliqué", "Applied"),
    "error": ("Erreur", "Error"),
    "shifts_heading": ("Décalages par rapport à la référence", "Shifts against the baseline"),
    "shifts_intro": (
        "Chaque étape comparée à la campagne de référence {baseline} : {tested} test(s) faits, {flagged} décalage(s) "
        "signalé(s). Latence : décalage de la bande {band} (au-delà de {bound}, intervalle à 95 %), une fois retiré "
        "le ralentissement commun des étapes (×{drift}) ; taux d'échec : écart en points. p ajusté par Holm.",
        "Each step against the baseline campaign {baseline}: {tested} test(s) made, {flagged} shift(s) flagged. "
        "Latency: the shift of the {band} band (beyond {bound}, 95 % interval), once the steps' common slowdown "
        "(×{drift}) is factored out; failure rate: the difference in points. p adjusted by Holm's method.",
    ),
    "shifts_none": ("Aucune comparaison : {why}", "No comparison: {why}"),
    "shift_latency": ("latence {band}", "latency {band}"),
    "shift_failure_rate": ("taux d'échec", "failure rate"),
    "points": ("{value} pt", "{value} pt"),
    "shift_measure": ("Mesure", "Measure"),
    "shift_effect": ("Écart (IC 95 %)", "Change (95 % CI)"),
    "shift_flagged": ("signalé", "flagged"),
    "shift_others": ("Les autres tests ({count})", "The other tests ({count})"),
    "baseline_short": ("Référence", "Baseline"),
    "compare_heading": ("Comparaison avec la campagne précédente", "Comparison with the previous campaign"),
    "compare_with": (
        "Exécution précédente de « {campaign} » : {run} ({started}, verdict {verdict}).",
        "Previous run of “{campaign}”: {run} ({started}, verdict {verdict}).",
    ),
    "compare_none": (
        "Aucune exécution précédente de « {campaign} » dans l'historique.",
        "No previous run of “{campaign}” in the history.",
    ),
    "compare_no_history": (
        "Pas d'historique des campagnes ({path} absent).",
        "No campaign history ({path} is missing).",
    ),
    "figure": ("Chiffre clé", "Key figure"),
    "previous": ("Précédente", "Previous"),
    "this_run": ("Cette campagne", "This campaign"),
    "delta": ("Écart", "Change"),
    "better": ("mieux", "better"),
    "worse": ("moins bien", "worse"),
    "fig.steps": ("Étapes tentées", "Steps attempted"),
    "fig.failure_rate": ("Taux d'échec global", "Overall failure rate"),
    "fig.p95_ms": ("p95 des étapes de requête", "p95 of request steps"),
    "fig.slos_met": ("SLO tenus", "SLOs met"),
    "fig.slos_breached": ("SLO manqués", "SLOs breached"),
    "fig.defects": ("Défauts documentés détectés", "Documented defects detected"),
    "fig.rights_at_risk": ("Droits menacés (projection)", "Rights at risk (projection)"),
    "trend_heading": ("Tendance sur l'historique de la campagne", "Trend across the campaign's history"),
    "trend_alt": (
        "Évolution sur {n} exécutions : taux d'échec de {fr0} à {fr1}, p95 de {p0} à {p1}, droits menacés de {r0} "
        "à {r1}.",
        "Across {n} runs: failure rate from {fr0} to {fr1}, p95 from {p0} to {p1}, rights at risk from {r0} to {r1}.",
    ),
    "trend_short": ("Il faut au moins deux exécutions pour tracer une tendance.", "A trend needs at least two runs."),
    "notes_heading": ("Fichiers illisibles", "Unreadable files"),
    "footer": (
        "anef-harness {version} · Population entièrement synthétique (identités générées) : aucune donnée de personne "
        "réelle.",
        "anef-harness {version} · An entirely synthetic population (generated identities): no real person's data.",
    ),
}

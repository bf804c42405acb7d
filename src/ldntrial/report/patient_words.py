"""Every sentence of her report, in English and in Spanish, in plain words.

The English is kept at or below a US grade-8 reading level (Flesch-Kincaid,
checked in tests/report/test_participant_report.py): short sentences, common
words. The Spanish says the same things; INNOVA, the largest trial after
Stanford's, was run in Spain. Medical statements carry their source in the
report, never here alone. Numbers are formatted by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldntrial.errors import ReportError

__all__ = ["LANGUAGES", "Words", "words_for"]


@dataclass(frozen=True)
class Words:
    """The report's fixed text in one language (``{}`` fields are filled by the report)."""

    code: str
    title: str
    heading: str
    helped: str
    not_meaningful: str
    cannot_tell: str
    too_few_days: str
    numbers_line: str
    chance_line: str
    informed_line: str
    findings: dict[str, str]
    figure_caption: str
    items_heading: str
    items_intro: str
    item_columns: tuple[str, ...]
    better: str
    worse: str
    unclear: str
    chances_heading: str
    chances_intro: str
    chance_columns: tuple[str, ...]
    prior_names: dict[str, str]
    pooled_line: str
    side_effects_heading: str
    side_effect_columns: tuple[str, ...]
    no_side_effects: str
    side_effects_trials: str
    esr_heading: str
    esr_line: str
    esr_unknown: str
    esr_caution: str
    evidence_heading: str
    evidence_line: str
    limits_heading: str
    limits: str
    doctor_heading: str
    doctor_note: str
    not_a_prescription: str
    item_names: dict[str, str]
    condition_names: dict[str, str]
    more_than: str
    axis_day: str
    axis_rating: str
    kind_labels: dict[str, str]
    footer: str
    side_effect_terms: dict[str, str]


ENGLISH = Words(
    code="en",
    title="Your LDN trial: {}",
    heading="Your LDN trial: what your diary shows",
    helped="{treatment} probably helped you{more} by an amount that matters.",
    not_meaningful="{treatment} probably did not help you{more} by an amount that matters.",
    cannot_tell="We cannot tell yet if {treatment} helps you{more}.",
    too_few_days=(
        "There are not enough diary days to compare yet: {on} days on {treatment} and {off} on "
        "{comparator}, and at least {needed} of each are needed."
    ),
    numbers_line=(
        "On {treatment} your average {item} was {on} out of 100. On {comparator} it was {off}. "
        "The difference is {difference} points. The true difference is likely between "
        "{lower} and {upper}."
    ),
    chance_line=(
        "From your diary alone, the chance that {treatment} lowers your {item} by {points} "
        "points or more is {chance}."
    ),
    informed_line="{finding} If we take the trials into account, the chance is {chance}.",
    findings={
        "unclear": "Together, the large trials could not tell LDN from placebo for pain.",
        "benefit": "Together, the large trials found a little less pain on LDN than on placebo.",
        "harm": "Together, the large trials found a little more pain on LDN than on placebo.",
    },
    figure_caption=(
        "Your daily {item} scores. Filled dots are the days we compared. Hollow dots are the "
        "first {run_in} days of each block, when LDN is still starting or stopping."
    ),
    items_heading="Pain, tiredness and sleep",
    items_intro="Each row compares your days on {treatment} with your days on {comparator}.",
    item_columns=(
        "",
        "On {treatment}",
        "On {comparator}",
        "Difference (likely range)",
        "What it means",
    ),
    better="better on {treatment}",
    worse="worse on {treatment}",
    unclear="no clear change",
    chances_heading="How sure can we be?",
    chances_intro=(
        "The chance depends on what we assume before your trial. Here are three starting "
        "points. If they agree, the answer is firm."
    ),
    chance_columns=(
        "Starting point",
        "Chance of {points} points or more",
        "Chance of {percent} % or more",
    ),
    prior_names={
        "evidence": "What the large trials found",
        "sceptical": "A doubtful start: LDN likely does little",
        "flat": "Your diary alone",
    },
    pooled_line=(
        "{others} other patients in this clinic also finished a trial like yours. Taken "
        "together, your own result moves toward the group: {own} points becomes {shrunk} "
        "points."
    ),
    side_effects_heading="Side effects",
    side_effect_columns=("Side effect", "On {treatment}", "On {comparator}"),
    no_side_effects="No side effects were recorded in your trial.",
    side_effects_trials=(
        "In the 2013 Stanford trial, vivid dreams were reported by 37 % of women on LDN and "
        "13 % on placebo, and headache by 16 % and 3 % (28 women). In the FINAL trial, 84 % had "
        "some side effect on LDN and 86 % on placebo (99 women)."
    ),
    esr_heading="Your ESR blood test",
    esr_line="Your ESR at the start was {esr} mm/hr.",
    esr_unknown="Your ESR at the start was not recorded.",
    esr_caution=(
        "In the first small study (10 women, 2009), women with a higher ESR gained more from "
        "LDN. This was never confirmed in later trials. A normal ESR does not mean LDN cannot "
        "help you, and a high ESR does not mean it will."
    ),
    evidence_heading="What larger trials found",
    evidence_line=(
        "{trials} trials compared LDN with placebo for pain. {finding} But an average can hide "
        "women who gain and women who do not. A personal trial asks which one you are."
    ),
    limits_heading="What this can and cannot say",
    limits=(
        "This page is about you, not about everyone. It is one trial. A flare, an illness or a "
        "change in other treatment during one block can move the result. More blocks give a "
        "clearer answer."
    ),
    doctor_heading="For your doctor",
    doctor_note="",
    not_a_prescription=(
        "This is a summary of your own diary to talk over with your doctor. It is not a "
        "prescription."
    ),
    item_names={"pain": "pain", "fatigue": "tiredness", "sleep_quality": "sleep", "mood": "mood"},
    condition_names={"ldn": "LDN", "placebo": "placebo"},
    more_than=" more than {comparator}",
    axis_day="study day",
    axis_rating="daily {item} (0-100)",
    kind_labels={},
    footer=(
        "Made with ldntrial {version} on {generated}. ldntrial supports decisions by a "
        "physician; it does not prescribe."
    ),
    side_effect_terms={},
)

SPANISH = Words(
    code="es",
    title="Su ensayo con LDN: {}",
    heading="Su ensayo con LDN: lo que muestra su diario",
    helped="Probablemente {treatment} le ayudó{more} de forma importante.",
    not_meaningful="Probablemente {treatment} no le ayudó{more} de forma importante.",
    cannot_tell="Todavía no podemos saber si {treatment} le ayuda{more}.",
    too_few_days=(
        "Todavía no hay días suficientes en el diario para comparar: {on} días con {treatment} "
        "y {off} con {comparator}; se necesitan al menos {needed} de cada uno."
    ),
    numbers_line=(
        "Con {treatment}, su {item} medio fue {on} de 100. Con {comparator} fue {off}. La "
        "diferencia es de {difference} puntos. Lo más probable es que la diferencia real esté "
        "entre {lower} y {upper}."
    ),
    chance_line=(
        "Solo con su diario, la probabilidad de que {treatment} baje su {item} {points} puntos o "
        "más es del {chance}."
    ),
    informed_line="{finding} Si tenemos en cuenta esos ensayos, la probabilidad es del {chance}.",
    findings={
        "unclear": (
            "En conjunto, los ensayos grandes no pudieron distinguir la LDN del placebo para el "
            "dolor, de media."
        ),
        "benefit": (
            "En conjunto, los ensayos grandes encontraron algo menos de dolor con LDN que con "
            "placebo."
        ),
        "harm": (
            "En conjunto, los ensayos grandes encontraron algo más de dolor con LDN que con "
            "placebo."
        ),
    },
    figure_caption=(
        "Sus puntuaciones diarias de {item}. Los puntos rellenos son los días comparados. Los "
        "puntos huecos son los primeros {run_in} días de cada bloque, cuando la LDN aún empieza "
        "o deja de actuar."
    ),
    items_heading="Dolor, cansancio y sueño",
    items_intro="Cada fila compara sus días con {treatment} con sus días con {comparator}.",
    item_columns=(
        "",
        "Con {treatment}",
        "Con {comparator}",
        "Diferencia (rango probable)",
        "Qué significa",
    ),
    better="mejor con {treatment}",
    worse="peor con {treatment}",
    unclear="sin cambio claro",
    chances_heading="¿Hasta qué punto podemos estar seguros?",
    chances_intro=(
        "La probabilidad depende de lo que supongamos antes de su ensayo. Aquí hay tres puntos "
        "de partida. Si coinciden, la respuesta es firme."
    ),
    chance_columns=(
        "Punto de partida",
        "Probabilidad de {points} puntos o más",
        "Probabilidad de un {percent} % o más",
    ),
    prior_names={
        "evidence": "Lo que encontraron los ensayos grandes",
        "sceptical": "Un punto de partida escéptico: la LDN probablemente hace poco",
        "flat": "Solo su diario",
    },
    pooled_line=(
        "Otras {others} pacientes de esta consulta también terminaron un ensayo como el suyo. "
        "Juntando todos los resultados, el suyo se acerca al del grupo: {own} puntos pasan a ser "
        "{shrunk} puntos."
    ),
    side_effects_heading="Efectos secundarios",
    side_effect_columns=("Efecto secundario", "Con {treatment}", "Con {comparator}"),
    no_side_effects="No se registraron efectos secundarios en su ensayo.",
    side_effects_trials=(
        "En el ensayo de Stanford de 2013, el 37 % de las mujeres con LDN y el 13 % con placebo "
        "contaron sueños vívidos, y el 16 % y el 3 % dolor de cabeza (28 mujeres). En el ensayo "
        "FINAL, el 84 % tuvo algún efecto secundario con LDN y el 86 % con placebo (99 mujeres)."
    ),
    esr_heading="Su análisis de VSG",
    esr_line="Su VSG al inicio era de {esr} mm/h.",
    esr_unknown="No se registró su VSG al inicio.",
    esr_caution=(
        "En el primer estudio pequeño (10 mujeres, 2009), las mujeres con la VSG más alta "
        "mejoraron más con LDN. Esto nunca se confirmó en ensayos posteriores. Una VSG normal "
        "no significa que la LDN no pueda ayudarle, y una VSG alta no significa que vaya a "
        "ayudarle."
    ),
    evidence_heading="Lo que encontraron los ensayos más grandes",
    evidence_line=(
        "{trials} ensayos compararon la LDN con un placebo para el dolor. {finding} Pero una "
        "media puede ocultar mujeres que mejoran y mujeres que no. Un ensayo personal pregunta "
        "cuál es su caso."
    ),
    limits_heading="Lo que esto puede y no puede decir",
    limits=(
        "Esta página trata de usted, no de todo el mundo. Es un solo ensayo. Un brote, una "
        "enfermedad o un cambio en otro tratamiento durante un bloque puede mover el resultado. "
        "Más bloques dan una respuesta más clara."
    ),
    doctor_heading="Para su médico",
    doctor_note="(Detalles técnicos en inglés.)",
    not_a_prescription=(
        "Esto es un resumen de su propio diario para comentar con su médico. No es una receta."
    ),
    item_names={
        "pain": "dolor",
        "fatigue": "cansancio",
        "sleep_quality": "sueño",
        "mood": "ánimo",
    },
    condition_names={"ldn": "la LDN", "placebo": "placebo"},
    more_than=" más que {comparator}",
    axis_day="día del estudio",
    axis_rating="{item} diario (0-100)",
    kind_labels={"placebo": "Placebo (cápsula idéntica)", "none": "Sin cápsulas del estudio"},
    footer=(
        "Hecho con ldntrial {version} el {generated}. ldntrial ayuda a decidir a un médico; "
        "no receta."
    ),
    side_effect_terms={
        "vivid_dreams": "sueños vívidos",
        "headache": "dolor de cabeza",
        "insomnia": "insomnio",
        "nausea": "náuseas",
        "dizziness": "mareo",
        "fatigue": "cansancio",
    },
)

LANGUAGES = {"en": ENGLISH, "es": SPANISH}


def words_for(language: str) -> Words:
    """The report's words in ``language`` ("en" or "es"), or an error naming the choices."""
    try:
        return LANGUAGES[language]
    except KeyError:
        raise ReportError(
            f"--language: {language!r} is not offered; choose one of {', '.join(LANGUAGES)}"
        ) from None

"""A question that names a document (its title, short title or an alias) is recognised, as whole words only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.naming import Names, instrument_names, normalise, particulars
from index.records import DocumentInfo


def info(id: str, title: str, short: str | None = None, aliases: tuple[str, ...] = ()) -> DocumentInfo:
    return DocumentInfo(
        id=id, title=title, source=f"{id}.md", sha256="0" * 64, format="markdown", short_title=short, aliases=aliases
    )


LIBRARY = {
    d.id: d
    for d in [
        info("gcm", "Global Compact for Safe, Orderly and Regular Migration", "GCM", ("Global Compact for Migration",)),
        info(
            "refugee-convention",
            "Convention relating to the Status of Refugees",
            "1951 Refugee Convention",
            ("1951 Convention", "Refugee Convention"),
        ),
        info("echr", "European Convention on Human Rights", "ECHR", ("European Convention",)),
        info("paper", "IOM's Approach to the Protection of Migrants and Displaced Persons"),
        info("ab", "Some short", "AB"),
    ]
}


def test_short_titles_aliases_and_titles_name_their_document() -> None:
    names = Names(LIBRARY)
    assert names.named_in("What does the GCM say about detention?") == {"gcm"}
    assert names.named_in("what does the global compact for migration say on data") == {"gcm"}
    assert names.named_in("Under the 1951 Convention, who is a refugee?") == {"refugee-convention"}
    assert names.named_in("Does the refugee convention allow expulsion?") == {"refugee-convention"}
    assert names.named_in("What does Article 3 of the ECHR prohibit?") == {"echr"}
    assert names.named_in(
        "In IOM’s approach to the protection of migrants and displaced persons, what is protection?"
    ) == {"paper"}


def test_a_names_words_in_either_number_name_it() -> None:
    kenya = info("kenya", "The Refugees (General) Regulations, 2024", aliases=("Kenya Refugees Regulations",))
    names = Names({**LIBRARY, "kenya": kenya})
    assert names.named_in("What do Kenya's refugee regulations say about passes?") == {"kenya"}
    assert names.named_in("Do the refugee conventions allow expulsion?") == {"refugee-convention"}
    assert names.named_in("Kenya's refugee rules") == frozenset()  # a word of the name is missing


def test_only_whole_words_and_names_of_three_letters_or_more() -> None:
    names = Names(LIBRARY)
    assert names.named_in("What is a gcmx?") == frozenset()
    assert names.named_in("Who is a refugee?") == frozenset()
    assert names.named_in("AB testing in the AB programme") == frozenset()  # two letters: never a name


def test_a_longer_name_is_not_also_read_as_a_shorter_one() -> None:
    library = {**LIBRARY, "ec": info("ec", "European Convention on Nationality", aliases=("European Convention",))}
    names = Names(library)
    # "European Convention on Human Rights" names the ECHR only, though "European Convention" is in it
    assert names.named_in("What does the European Convention on Human Rights say?") == {"echr"}
    assert names.named_in("the European Convention") == {"echr", "ec"}


@given(st.text(max_size=80))
def test_normalised_text_is_words_between_single_spaces(text: str) -> None:
    out = normalise(text)
    assert out.startswith(" ") and out.endswith(" ")
    assert "  " not in out or out == "  "
    assert out == normalise(out)


def test_the_names_of_instruments_bodies_and_cases_in_a_question() -> None:
    assert instrument_names("What is the maximum period of detention under the EU Return Directive?") == [
        "EU Return Directive"
    ]
    assert instrument_names("What does the UN Convention against Torture say about refoulement?") == [
        "UN Convention against Torture"
    ]
    assert instrument_names("What did the ECtHR decide in Soering v. United Kingdom?") == ["Soering v. United Kingdom"]
    assert instrument_names("How does the Loss and Damage Fund channel climate finance?") == ["Loss and Damage Fund"]
    assert instrument_names("What does the GCM say about detention?") == []
    assert instrument_names("Can a state expel a refugee under the convention?") == []  # not a name: lower case


@pytest.mark.parametrize(
    ("question", "names"),
    [
        # a part of the instrument written before its name is not the name (it made the question name no document)
        (
            "What does the Preamble of the Universal Declaration of Human Rights give as the foundation of freedom?",
            ["Universal Declaration of Human Rights"],
        ),
        ("Under the Schedule to the 1951 Convention, how long is a travel document valid?", ["1951 Convention"]),
        # the question's capitalised first word is not part of a name, and a keyword alone names nothing
        ("Does the UK Illegal Migration Act 2023 allow removal to Rwanda?", ["UK Illegal Migration Act"]),
        ("Under Regulation (EU) 2024/1347, who is excluded from refugee status?", []),
        ("Under Protocol No. 6 to the ECHR, can a State ratify the Protocol alone?", []),
        # a quoted heading before the name
        (
            "Under 'Continuity of Residence' in the 1951 Refugee Convention, how is residence counted?",
            ["1951 Refugee Convention"],
        ),
        # names that begin with a join stay whole
        (
            "Who may accede to the Protocol relating to the Status of Refugees?",
            ["Protocol relating to the Status of Refugees"],
        ),
    ],
)
def test_a_name_is_read_without_what_the_question_writes_before_it(question: str, names: list[str]) -> None:
    assert instrument_names(question) == names


def test_a_phrase_holds_a_documents_name_and_leaves_the_rest() -> None:
    names = Names({"iccpr": info("iccpr", "International Covenant on Civil and Political Rights", "ICCPR")})
    assert names.held_in("Optional Protocol to the ICCPR") == (frozenset({"iccpr"}), "optional protocol")
    assert names.held_in("ICCPR's Optional Protocol") == (frozenset({"iccpr"}), "optional protocol")
    assert names.held_in("Optional Protocol to CEDAW") == (frozenset(), "optional protocol to cedaw")


def test_a_phrase_made_of_a_documents_name_words_resembles_it() -> None:
    crc = info("crc", "Convention on the Rights of the Child", "CRC")
    kampala = info(
        "kampala",
        "African Union Convention for the Protection and Assistance of Internally Displaced Persons in Africa",
        "Kampala Convention",
    )
    names = Names({d.id: d for d in (crc, kampala)})
    assert names.resembles("Children's Convention")  # "children" is the plural of "child"
    assert names.resembles("African Union Convention on IDPs")  # IDPs: internally displaced persons
    assert names.resembles("Kampala Convention")
    assert not names.resembles("Cartagena Declaration")
    assert not names.resembles("EU Return Directive")


def test_particulars_are_names_acronyms_and_numbers_not_question_words() -> None:
    assert particulars("How many asylum applications were lodged in Germany in 2023?") == ("Germany", "2023")
    assert particulars("Greece asylum acceptance rate Afghan nationals") == ("Greece", "Afghan")
    assert particulars("What did Norway's white paper say?") == ("Norway",)
    assert particulars("What did the IDMC report on the Haiti-Dominican Republic border?") == (
        "IDMC",
        "Haiti",
        "Dominican",
        "Republic",
    )
    # the words protection texts capitalise by convention, roman numerals and single letters name nothing
    assert particulars("What are the recommendations for Member States under Article IV of Dublin III?") == ("Dublin",)
    assert particulars("What does the Convention say? Is a State Party bound by Annex 2(a)?") == ()


def test_another_instrument_whose_name_holds_a_documents_name_does_not_name_it() -> None:
    names = Names(LIBRARY)
    # the 1969 OAU Convention is not the 1951 Refugee Convention, though its name holds "Refugee Convention"
    assert names.named_in("What does the OAU Refugee Convention say about who is a refugee?") == frozenset()
    assert not names.resembles("OAU Refugee Convention")
    # words that are the document's own, or that texts capitalise by convention, keep it named
    for question in (
        "What does the UN Refugee Convention say about expulsion?",
        "Under the 1951 Refugee Convention, can a refugee work?",
        "What does the Refugee Convention say about travel documents?",
    ):
        assert names.named_in(question) == {"refugee-convention"}, question
    assert names.named_in("What does the European Convention on Human Rights say about torture?") == {"echr"}

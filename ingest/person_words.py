"""Word lists the PERSON rules consult, written by hand: what a name is not.

Kept apart from the rules so that a reader can check every list at a glance; each is lower case.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Given names in the public lists that are everyday English words, months, days or greetings: as a
# capitalised word they open sentences and headings far more often than they name someone.
EVERYDAY_GIVEN_NAMES = _words(
    """
    a amber an and angel april are art as at august autumn baker be bill bird blue bob born boy
    brown by can carter cash chance chase chief christian clay cliff close cole colt cook cooper
    core court crystal dale dash dawn day dean dear december deep del delta doctor don dot due early
    even ever faith fall fate february field fine fisher five ford forest fortune frank free friday
    gay gem gene general gift glen glory gold golden grace grant gray green grey guy hall harm
    harmony have hazel he heath hello her here hero hey hi hill his holly honey hope hunter in iris
    is it ivy jack jade january jewel jordan joy july june just justice king lake lance lane later
    lee less levi liberty light lily long lord love lucky madam major man many march mark marsh
    mason may me men mercy miles miller miss mister monday more moses my new no noble north not
    november october of oliver on one or oral page park parker pat patience pearl penny pepper per
    pierce porter price prince queen rain randy ray ready reed rich river robin rock rose royal ruby
    rule rusty sage said saint sale saturday say scout see september shade sharp shelby short sir
    skip sky so sol son spring star sterling stone storm stormy sue sugar summer sunday sunny tad
    taylor thanks the thursday to trinity true tucker tuesday una unique van via victory violet von
    wade walker ward way wednesday west white will winter wise with wood worth young
    """
)

# A word after one of these is a thing, not a person: "Aurora kinase", "Cox regression".
TECHNICAL_NOUNS = _words(
    """
    kinase kinases protein proteins gene genes pathway pathways signaling signalling receptor
    receptors mice mouse rat rats cell cells expression domain domains complex family inhibitor
    inhibitors mutant mutants mutation mutations knockout deficient null transgenic sequence
    sequences promoter binding activity levels level syndrome disease diseases disorder model models
    method methods algorithm regression analysis analyses curve curves estimator estimate
    distribution criteria scale score index protocol trial trials study studies cohort virus viruses
    strain strains antibody antibodies assay assays test tests equation effect effects factor
    factors reaction chain process system database platform software package cycler plot plots
    correction coefficient ratio
    """
)

# Labels that open lines of forms, logs, tickets and abstracts, not turns of a conversation.
FIELD_LABELS = _words(
    """
    name address phone email e-mail mail fax mobile tel website web url subject from to cc bcc date
    time note notes user bot agent customer client support system assistant question answer re fw
    fwd background methods method results result conclusion conclusions objective objectives purpose
    design setting participants interventions intervention measurements findings interpretation
    importance context aims aim summary abstract introduction discussion keywords title author
    status priority error warning info debug step example output input total source reference host
    port server version type category description comment comments update edit warning tip important
    caution see also location office company team project department role account id key value
    password token secret
    """
)

# Lower-case words after "my name is" that are not a name ("my name is not on the list").
NOT_NAMES = _words(
    """
    a an the not on in at is was my your his her our their this that it and or but to of for with
    him them me us you incorrect wrong correct missing spelled misspelled written listed shown
    """
)

# Endings of surnames from Slavic, Baltic, Finnish, Romanian, Greek, Turkish, Armenian, Georgian and
# Nordic languages that no English word of five letters or more has ("Bayesian", "Atlantic" and
# "Heidelberg" share theirs with English, so "-ian", "-ic" and "-berg" are not here).
SURNAME_ENDINGS = tuple(
    sorted(
        _words(
            """
            ov ova ev eva vich vych vić ovic evic ić ski ska sky enko chuk czyk yan nen poulos akis escu
            oglu oğlu shvili dze sson sdottir dóttir
            """
        )
    )
)

# Street and place words of the same languages: "Mellemstræde", "Kopfhölzistrasse", "Hlíðarvegur".
PLACE_ENDINGS = tuple(
    sorted(
        _words(
            """
            strasse straße stræde stræti vegur braut gade vej gasse straat utca ulica cesta platz gatan
            vägen veien katu
            """
        )
    )
)

# Words with foreign letters that English borrows and capitalises at a sentence's start, and words with
# a surname's ending that English uses as terms ("Kenyan runners", "a Markov chain", "Karnofsky score").
BORROWED_WORDS = _words(
    "café naïve façade déjà protégé fiancé fiancée résumé rôle über señor señora crème "
    "kenyan markov karnofsky"
)

"""Write the synthetic CFR Cyber Operations Tracker sample: one "export incidents" CSV in the users' copies' layout.

Stdlib only and deterministic: running it again rewrites byte-identical bytes (UTF-8, CRLF, RFC-4180 quoting).
    python data/samples/generate_cyber_cfr.py [output_dir]
Every incident, group and victim below is invented; only the format and the quirks copy the CFR export.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HEADER = ["Title", "Date", "Affiliations", "Description", "Response", "Victims", "Sponsor", "Type", "Category",
          "Sources_1", "Sources_2", "Sources_3"]


def src(n: int) -> str:
    return f"https://example.org/cfr-sample/{n}"


ROWS = [
    ["Compromise of an invented ministry", "2/13/2020", "Believed to be the work of Paper Wolf",
     "Paper Wolf compromised the made-up ministry\u2019s mail servers.\nA second paragraph follows.",
     "Denouncement   https://example.org/cfr-sample/response-1", "Estonia", "Russian Federation", "Espionage",
     "Government", src(1), "", ""],
    ["Targeting of fictional energy firms", "12/3/2022", "Jade Heron",
     "A synthetic campaign against energy companies in several countries.", "",
     "Energy companies in the United States, Canada, and Japan", "China", "Espionage",
     "Private sector, Government", src(2), src(3), ""],
    ["Joint operation against a made-up enrichment plant", "6/1/2010", "",
     "An invented sabotage operation credited to two sponsors.", "",
     "Iran", "United States, Israel", "Sabotage", "Government, Military", src(4), "", ""],
    ["Surveillance of invented activists", "4/6/2017", "Olive Viper",
     "A fictional group spied on activists.", "", "Activists in Gaza and the West Bank",
     "Palestine, State of", "Espionage", "Civil society", src(5), "", ""],
    ["Phishing of two invented ministries", "8/10/2021", "Olive Viper, Cedar Fox",
     "A synthetic phishing wave with two sponsors, one named with a comma.", "",
     "Israeli government officials", "Palestine, State of, Iran (Islamic Republic of)", "Espionage",
     "Government", src(6), "", ""],
    ["Theft from a fictional exchange", "1/23/2020", "Blue Kite",
     "Invented thieves emptied a made-up cryptocurrency exchange.", "Criminal charges   " + src(7),
     "South Korean cryptocurrency exchange", "Korea (Democratic People's Republic of)", "Financial Theft",
     "Private sector", src(8), "", ""],
    ["Blue Kite", "", "Also known as a made-up alias",
     "Responsible for invented operations against financial institutions.", "",
     "Banks in the U.S., the U.K., and Vietnam", "Korea (Democratic People's Republic of)", "",
     "Private sector", src(9), "", ""],
    ["DDoS of an invented election site", "10/27/2019", "Steppe Hawks",
     "Synthetic denial of service against an election commission.", "",
     "Ukrainian Central Election Commission", "Russian Federation", "Denial of service", "Government",
     src(10), "", ""],
    ["Leak of made-up party emails", "7/22/2016", "",
     "An invented leak of party e-mails.", "", "Democratic National Committee", "Russian Federation", "Doxing",
     "Civil society, Government", src(11), "", ""],
    ["Defacement of invented news sites", "3/29/2018", "Samba Crew",
     "Fictional hacktivists defaced news sites.", "", "Mexican newspapers", "Mexico", "Defacement",
     "Civil society", src(12), "", ""],
    ["Wiper against an invented oil company", "8/15/2012", "Rust Falcon",
     "A made-up wiper erased data at an oil company.", "Unknown", "Saudi Aramco",
     "Iran (Islamic Republic of)", "Data destruction", "Private sector", src(13), "", ""],
    ["Espionage against an invented think tank", "", "",
     "A synthetic incident without a date and without a sponsor.", "", "A think tank in Brussels", "",
     "Espionage", "Civil society", src(14), "", ""],
    # Copy (b)'s lost non-ASCII punctuation.
    ["Targeting of the invented parliament?? email system", "10/13/2020", "Government of Russia",
     "The made-up parliament??s email accounts were breached.", "", "Norway", "Russian Federation",
     "Espionage", "Government", src(15), "", ""],
    # Shifted by a lost Response field (copy b): Victims holds the sponsor, Sponsor the type, Type the sector.
    ["Targeting of fictional cloud servers", "6/6/2021", "Paper Wolf",
     "A synthetic brute-force campaign.", "Cloud customers", "Russian Federation", "Espionage", "Private sector",
     src(16), src(17), "", ""],
    ["Targeting of invented telecoms", "9/28/2021", "Jade Heron",
     "A made-up intrusion at a telecom, reported twice.", "", "Afghan telecommunication firm", "China",
     "Espionage", "Private sector", src(18), "", ""],
    ["Targeting of invented telecoms", "9/28/2021", "Jade Heron",
     "A second, different report of the same made-up intrusion.", "", "Afghan telecommunication firm", "China",
     "Espionage", "Private sector", src(19), "", ""],
    ["Spyware against invented journalists", "5/4/2022", "Quiet Owl",
     "Invented spyware reached journalists.", "Denial   " + src(20),
     "Journalists in India, Pakistan, and Sri Lanka", "United Arab Emirates, Saudi Arabia", "Espionage",
     "Civil society", src(21), "", ""],
    ["Ransomware at a fictional hospital", "11/9/2020", "",
     "A made-up ransomware outage at a hospital.", "", "A hospital in Dusseldorf, Germany", "",
     "Sabotage", "Private sector, Civil society", src(22), "", ""],
    ["Espionage against a made-up defence ministry", "2/16/2015", "Green Comet",
     "Invented operators targeted a defence ministry.", "", "Indian Ministry of Defence", "Pakistan",
     "Espionage", "Military, Government", src(23), "", ""],
    ["Intrusion at an invented satellite operator", "7/18/2018", "Jade Heron",
     "A fictional intrusion at a satellite operator.", "", "Satellite operators in Southeast Asia", "China",
     "Espionage", "Private sector", src(24), "", ""],
]
# A row with a field too few (its last source lost), and an exact repeat of row 1.
SHORT_ROW = ["Targeting of a made-up port authority", "5/17/2019", "", "An invented row with a field lost.", "",
             "Port authority", "China", "Espionage", "Government", src(25), ""]


def main(output: Path) -> None:
    """Write cyber-operations-incidents.csv into `output`."""
    output.mkdir(parents=True, exist_ok=True)
    with (output / "cyber-operations-incidents.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(ROWS[:10])
        writer.writerow(SHORT_ROW)
        writer.writerows(ROWS[10:])
        writer.writerow(ROWS[0])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "cfr")

using System.Text.RegularExpressions;
using static ReplyAdmin.Engine.Classification.Rules.RuleHelpers;

namespace ReplyAdmin.Engine.Classification.Rules
{
    /// <summary>A subject phrase: the words, its meaning, and how much it says.</summary>
    internal sealed class SubjectPhrase
    {
        public SubjectPhrase(string rule, string source, string pattern, EvidenceIndication indicates, AutoReplyKind kind, bool ambiguous)
        {
            Rule = rule;
            Source = source;
            Indicates = indicates;
            Kind = kind;
            Ambiguous = ambiguous;
            // At the start; then the responder's colon (strong), or the end, or a date/"until"/"Re:" (moderate), or other words (weak).
            Pattern = pattern;
            Regex = new Regex(@"^(" + pattern + @")(?<rest>.*)$", Lower | RegexOptions.Singleline, RegexTimeout);
        }

        public string Pattern { get; }
        public string Rule { get; }
        public string Source { get; }
        public EvidenceIndication Indicates { get; }
        public AutoReplyKind Kind { get; }
        /// <summary>A common word a person could start a subject with ("Absence", "Urlaub", "Auto"): one step weaker.</summary>
        public bool Ambiguous { get; }
        public Regex Regex { get; }
    }

    /// <summary>
    /// How an out-of-office text says "I am away" in one language, and the words that give the return ("until", a date).
    /// A first-person absence sentence is weak evidence; with a return in the same sentence it is what responder
    /// templates write, and a little stronger. A sentence that starts "when/if I am away" is a person talking about it.
    /// </summary>
    internal sealed class AbsenceText
    {
        public AbsenceText(string language, string source, string[] anchors, string statement, string until)
        {
            Language = language;
            Anchors = anchors;
            Source = source;
            Statement = new Regex(statement, Lower, RegexTimeout);
            // The sentence from the start of the absence statement: a date (a digit) or an "until" word within it.
            Until = new Regex(@"^[^.!?\n]{0,160}?(\d|\b(" + until + @")\b)", Lower, RegexTimeout);
        }

        public string Language { get; }
        public string Source { get; }
        /// <summary>Literal words every match contains: the statement regex runs only on text holding one (most text holds none).</summary>
        public string[] Anchors { get; }
        public Regex Statement { get; }
        public Regex Until { get; }
    }

    /// <summary>
    /// The phrase tables, per language, written for normalised text (lower case, accents removed: ä→a, é→e, ł→l, ß→ss,
    /// å→a, ø→o, æ→ae). Each row names where the wording comes from: the localised templates of Exchange/Outlook
    /// ("Automatic reply:" in the user's language), Lotus Notes ("AUTO:"), the Pigeonhole Sieve default ("Auto:"),
    /// the man-page template of vacation(1) ("I am on vacation"), or what users commonly type into a Gmail, Apple
    /// iCloud, Zimbra or Sieve vacation form ("convention", since those products send the user's own subject and text).
    /// </summary>
    internal static class PhraseTables
    {
        internal static readonly SubjectPhrase[] Subjects =
        {
            // ---- Out-of-office subjects a responder writes (not words a person starts a subject with) ----
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (en), Exchange 2003 \"Out of Office AutoReply:\", vacation(1) man page", @"out of (the )?office( auto ?reply| reply| notice| message)?|ooo|automatic reply|auto[- ]?reply|auto[- ]?response|automatic response|automated (reply|response)|away from (the |my )?(office|mail|e-?mail|desk)|i am (currently )?(on vacation|on holiday|on leave|out of (the )?office|away)|i'm (currently )?(on vacation|on holiday|on leave|out of (the )?office|away)", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (de \"Automatische Antwort:\"), convention (de)", @"abwesenheitsnotiz|abwesenheitsnachricht|abwesenheitsmeldung|abwesenheitsassistent|automatische antwort|automatische abwesenheitsnachricht|nicht im buro|ausser haus|auto(matische)? ?antwort|ich bin (im urlaub|nicht im buro|abwesend)", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (fr \"Réponse automatique :\"), convention (fr)", @"reponse automatique|absente? du bureau|absence du bureau|message d'absence|je suis absente?|hors du bureau", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (nl \"Automatisch antwoord:\"), convention (nl)", @"automatisch antwoord|afwezigheidsbericht|niet op kantoor|niet aanwezig|ik ben afwezig", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (es \"Respuesta automática:\"), convention (es)", @"respuesta automatica|fuera de la oficina|fuera de oficina|mensaje de ausencia", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (it \"Risposta automatica:\"), convention (it)", @"risposta automatica|risposta di assenza|fuori sede|fuori ufficio|messaggio di assenza", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (pt \"Resposta automática:\"), convention (pt)", @"resposta automatica|fora do escritorio|ausente do escritorio|mensagem de ausencia", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (pl \"Automatyczna odpowiedź:\"), convention (pl)", @"automatyczna odpowiedz|poza biurem|nieobecnosc w (biurze|pracy)", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (cs \"Automatická odpověď:\", sk), convention (cs)", @"automaticka odpoved|automaticka odpove|mimo kancelar", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (sv \"Automatiskt svar:\", da/no \"Automatisk svar:\", fi), convention", @"autosvar|automatiskt svar|automatisk svar|automatisk besked|ikke pa kontoret|ikke til stede|inte pa kontoret|automaattinen vastaus|poissa toimistolta", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (hu, hr, sl, ro, lt, lv, et)", @"automatikus valasz|automatski odgovor|avtomatski odgovor|raspuns automat|automatinis atsakymas|(arpus biroja atrasanas )?automatiska atbilde|automaatne vastus", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (ru, el, tr, ja, zh)", @"автоматический ответ|αυτοματη απαντηση|otomatik (yanit|cevap)|自動応答|自動返信|自动回复|自動回覆", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            // ---- Common words a person might also start a subject with: Lotus Notes "AUTO:", Pigeonhole "Auto:", and the
            //      one-word subjects users type into vacation forms (en, de, fr, nl, es, it, pt, pl, cs, sv, da, no, fi, lv) ----
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Lotus Notes \"AUTO:\", Pigeonhole Sieve default \"Auto:\"; convention (vacation forms)", @"vacation( alert| notice| reply)?|on (vacation|holiday|leave)|holiday|away|absence|absent|abwesend|abwesenheit|urlaub|im urlaub|en conge|en vacances|assenza|assente|in ferie|ausente|ausencia|de vacaciones|de ferias|afwezig|op vakantie|nieobecnosc|nieobecny|nieobecna|urlop|na urlopie|nepritomnost|dovolena|franvarande|franvaro|semester|fravaerende|fravaer|ferie|poissa|atvalinajums|auto|不在", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, true),
            // ---- Auto-acknowledgement (ticket systems, "we received your message") ----
            new SubjectPhrase("AcknowledgementSubject", "vendor: ticket systems (OTRS/Znuny, Zendesk, RT), convention", @"(\[?ticket ?#?[-\w]*\]?|case ?#)|(we (have )?)?received your (message|request|e-?mail|inquiry|enquiry)|thank(s| you) for (contacting|your (message|e-?mail|request|inquiry|enquiry))|request received|message received|(automatic )?acknowledge?ment|eingangsbestatigung|ihre (anfrage|nachricht) (ist eingegangen|wurde empfangen)|accuse de reception|conferma di ricezione|acuse de recibo", EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement, true),
            // ---- Challenge-response (sender verification) ----
            new SubjectPhrase("ChallengeResponseSubject", "vendor: challenge-response (Boxbe, Bluebottle, SpamArrest, TMDA)", @"please confirm (your|that)|confirm your (e-?mail|message)|verify your (e-?mail|message)|sender verification|(\[boxbe\]|boxbe)|spam ?arrest|your message (is )?awaiting (your )?(confirmation|verification)|(message|e-?mail) (is )?(on hold|pending) (for|until) (verification|confirmation)|please verify (that )?you are (a )?human|verification required|bitte bestatigen sie", EvidenceIndication.AutoReply, AutoReplyKind.ChallengeResponse, true),
            // ---- Non-standard bounces: what MTAs put in the subject ----
            new SubjectPhrase("BounceSubject", "MTA convention (Postfix, sendmail, qmail, Exim, Exchange, Domino, Gmail)", @"undeliver(able|ed)|undelivered mail|non[- ]?deliver(able|y)|delivery (status notification|notification|failure|failed|has failed|problem|report|status)|(mail|message) delivery (failed|failure|problem|error|status|notification)|returned mail|returned to sender|failure notice|failed delivery|could not (be )?deliver|message not delivered|mail system error|warning: could not send|mail could not be delivered|notice: mail delivery|delivery failure",
                EvidenceIndication.Bounce, AutoReplyKind.None, false),
            new SubjectPhrase("BounceSubject", "MTA convention (localised Exchange, Gmail, Domino)", @"unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|benachrichtigung zum ubermittlungsstatus|ubermittlungsstatus|non remis|non distribuable|impossible de remettre|echec de (la )?(remise|distribution)|non recapitabile|mancato recapito|onbestelbaar|niet bezorgd|no se puede entregar|no entregado|notificacion de estado de entrega|nao entregue|nao foi possivel entregar|niedostarczalne|nie dostarczono|olevererbar|kunde inte levereras|ikke leveret|kan ikke leveres|ei voitu toimittaa|nedorucitelne|kezbesithetetlen|nepristatoma|nepiegadajams|teslim edilemedi|недоставлен|не доставлено|ошибка доставки|配信不能|配信エラー|送信エラー|メールエラー|不達|无法投递|退信",
                EvidenceIndication.Bounce, AutoReplyKind.None, false),
        };

        // First-person absence sentences. Sources: the default and example texts of Exchange/Outlook OOF, Gmail, Apple
        // iCloud, Zimbra and Sieve vacation forms are the user's own words; these are the sentences such texts open with
        // (and the ones the generated corpus in tests/fixtures/corpus-generated carries).
        internal static readonly AbsenceText[] Absence =
        {
            new AbsenceText("en", "convention (Exchange/Outlook, Gmail, Apple, Zimbra, Sieve vacation texts; vacation(1) man page)",
                new[] { "i'm ", "i am ", "i will", "i shall", "out of", "on vacation", "on holiday", "on leave", "limited access", "will not be reading" },
                @"\bi('m| am| will be| shall be) (currently |now |presently )?((out of|away from) (the |my )?(office|desk|mail|e-?mail)|away|on (vacation|holiday|holidays|leave|annual leave|parental leave|maternity leave|a business trip)|travel+ing|out of town|not in the office)|\b(out of (the )?office|on (vacation|holiday|leave)) (until|till|from|through|and will)|limited access to (my )?e-?mail|\bi will (respond|reply|get back to you) (to your (message|e-?mail) )?(when|upon|after) (i|my) return|will not be reading (my )?(mail|e-?mail)",
                "until|till|through|returning|return on|back on|back in the office"),
            new AbsenceText("de", "convention (Exchange/Outlook Abwesenheitsassistent, Sieve/Zimbra texts)",
                new[] { "ich bin", "bin ich" },
                @"ich bin (bis|vom|ab|derzeit|zurzeit|zur zeit|momentan|leider|gerade|aktuell) .{0,80}(nicht im buro|abwesend|im urlaub|nicht erreichbar|ausser haus|nicht am arbeitsplatz|auf dienstreise|in elternzeit)|ich bin (im urlaub|abwesend|nicht im buro|ausser haus|auf dienstreise)|bin ich (nicht|nur eingeschrankt) erreichbar",
                "bis|ab dem|zuruck|wieder"),
            new AbsenceText("fr", "convention (Outlook \"Réponse automatique\" texts, Sieve/Zimbra)",
                new[] { "je suis", "absent" },
                @"je suis (actuellement |en ce moment )?(absente?|en conge|en conges|en vacances|hors du bureau|en deplacement)|absente? du bureau",
                "jusqu|au|retour|a partir"),
            new AbsenceText("nl", "convention (Outlook \"Automatisch antwoord\" texts)",
                new[] { "ik ben" },
                @"ik ben (momenteel |op dit moment )?(afwezig|niet aanwezig|op vakantie|niet op kantoor|met verlof)",
                "tot|vanaf|terug"),
            new AbsenceText("es", "convention (Outlook \"Respuesta automática\" texts)",
                new[] { "estoy", "estare" },
                @"estoy (actualmente )?(fuera de la oficina|de vacaciones|ausente|fuera)|estare fuera",
                "hasta|a partir|regreso"),
            new AbsenceText("it", "convention (Outlook \"Risposta automatica\" texts)",
                new[] { "sono ", "fuori ufficio" },
                @"sono (attualmente )?(fuori ufficio|fuori sede|assente|in ferie|in vacanza)|fuori ufficio fino",
                "fino|al|rientro|dal"),
            new AbsenceText("pt", "convention (Outlook \"Resposta automática\" texts)",
                new[] { "estou" },
                @"estou (atualmente )?(ausente|fora do escritorio|de ferias|fora)",
                "ate|a partir|regresso|retorno"),
            new AbsenceText("pl", "convention (Outlook \"Automatyczna odpowiedź\" texts)",
                new[] { "jestem" },
                @"jestem (obecnie )?(poza biurem|nieobecn\w*|na urlopie)",
                "do|od|powrot"),
            new AbsenceText("cs", "convention (Outlook \"Automatická odpověď\" texts)",
                new[] { "jsem" },
                @"jsem (momentalne |nyni )?(mimo kancelar|mimo kancelare|nepritomn\w*|na dovolene|mimo)",
                "do|od|navrat"),
            new AbsenceText("sv", "convention (Outlook \"Automatiskt svar\" texts)",
                new[] { "jag ar" },
                @"jag ar (for narvarande |just nu )?(borta|ledig|franvarande|pa semester|inte pa kontoret|tjanstledig|foraldraledig)",
                "till|tillbaka|fran"),
            new AbsenceText("da/no", "convention (Outlook \"Automatisk svar\" texts)",
                new[] { "jeg er" },
                @"jeg er (for tiden |i ojeblikket |for tiden )?(pa ferie|fravaerende|borte|ikke pa kontoret|ikke til stede|pa barsel|pa kursus)",
                "til|tilbake|tilbage|fra"),
        };
    }
}

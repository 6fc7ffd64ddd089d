using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using static ReplyAdmin.Engine.Classification.Rules.RuleHelpers;

namespace ReplyAdmin.Engine.Classification.Rules
{
    /// <summary>
    /// Subject rules. The subject is normalised (lower case, accents removed) and only the part a responder
    /// writes counts: the start of the subject, before any reply/forward prefix. "Re: Out of office policy"
    /// and "AW: Automatische Antwort: ..." are a person's subjects (the phrase is quoted from the original).
    /// </summary>
    internal static class SubjectRules
    {
        // Reply and forward prefixes in the languages mail clients use (Re, AW, SV, Odp, R, ...; WG, Fwd, TR, RV, I, ...).
        private const string ReplyPrefix = @"(re|aw|sv|vs|odp|antw|atb|ynt|r|ris|rif|res|resp|ha|reply|отв|ответ|回复|答复|返信)";
        private const string ForwardPrefix = @"(fw|fwd|wg|tr|rv|i|enc|doorst|pd|vb|vl|fs|trs|転送|转发|пересл)";
        private static readonly Regex LeadingReplyOrForward = new Regex(@"^\s*(" + ReplyPrefix + "|" + ForwardPrefix + @")\s*(\[\d+\]|\(\d+\))?\s*[:：]", Lower, RegexTimeout);
        private static readonly Regex LeadingForward = new Regex(@"^\s*" + ForwardPrefix + @"\s*(\[\d+\])?\s*[:：]", Lower, RegexTimeout);
        // Tags some gateways put in front: [EXT], [SPAM], *** ... ***
        private static readonly Regex LeadingTags = new Regex(@"^(\s*(\[[^\]]{0,40}\]|\*+|\{[^}]{0,40}\}))+\s*", Lower, RegexTimeout);

        /// <summary>A subject phrase: the words, its meaning, and how much it says.</summary>
        private sealed class SubjectPhrase
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

        // Patterns are written for the normalised subject: lower case, accents removed (ä→a, é→e, ł→l, ß→ss).
        private static readonly SubjectPhrase[] SubjectPhrases =
        {
            // Out-of-office: Exchange/Outlook OOF subject prefixes per language ("Automatic reply: <subject>",
            // Exchange 2003 "Out of Office AutoReply:"), Lotus Notes "AUTO:", Gmail/Sieve vacation subjects.
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF", @"out of (the )?office( auto ?reply| reply| notice| message)?|ooo|automatic reply|auto[- ]?reply|auto[- ]?response|automatic response|automated (reply|response)|away from (the )?office", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (de)", @"abwesenheitsnotiz|abwesenheitsnachricht|abwesenheitsmeldung|abwesenheitsassistent|automatische antwort|automatische abwesenheitsnachricht|nicht im buro|ausser haus|auto(matische)? ?antwort", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (fr, it, es, pt, nl)", @"reponse automatique|absence du bureau|message d'absence|risposta automatica|risposta di assenza|fuori sede|fuori ufficio|respuesta automatica|fuera de la oficina|resposta automatica|fora do escritorio|automatisch antwoord|afwezigheidsbericht|niet op kantoor", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (pl, cs, sk, hu, hr, sl, ro, lt, lv, et)", @"automatyczna odpowiedz|poza biurem|automaticka odpoved|automaticka odpove|automatikus valasz|automatski odgovor|avtomatski odgovor|raspuns automat|automatinis atsakymas|(arpus biroja atrasanas )?automatiska atbilde|automaatne vastus", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (sv, da, no, fi)", @"autosvar|automatiskt svar|automatisk svar|automatisk besked|ikke pa kontoret|automaattinen vastaus|poissa toimistolta", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            new SubjectPhrase("OutOfOfficeSubject", "vendor: Exchange/Outlook OOF (ru, el, tr, ja, zh)", @"автоматический ответ|αυτοματη απαντηση|otomatik (yanit|cevap)|自動応答|自動返信|自动回复|自動回覆", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, false),
            // Common words a person might also start a subject with.
            new SubjectPhrase("OutOfOfficeSubject", "vendor: vacation responders", @"vacation( alert| notice| reply)?|on (vacation|holiday|leave)|holiday|away|absence|absent|abwesend|abwesenheit|urlaub|im urlaub|assenza|ausente|ausencia|afwezig|nieobecnosc|franvaro|fravaer|poissa|atvalinajums|auto|不在", EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, true),
            // Auto-acknowledgement (ticket systems, "we received your message")
            new SubjectPhrase("AcknowledgementSubject", "vendor: ticket systems", @"(\[?ticket ?#?[-\w]*\]?|case ?#)|(we (have )?)?received your (message|request|e-?mail|inquiry|enquiry)|thank(s| you) for (contacting|your (message|e-?mail|request|inquiry|enquiry))|request received|message received|(automatic )?acknowledge?ment|eingangsbestatigung|ihre (anfrage|nachricht) (ist eingegangen|wurde empfangen)|accuse de reception|conferma di ricezione|acuse de recibo", EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement, true),
            // Challenge-response (sender verification)
            new SubjectPhrase("ChallengeResponseSubject", "vendor: challenge-response (Boxbe, SpamArrest, TMDA)", @"please confirm (your|that)|confirm your (e-?mail|message)|verify your (e-?mail|message)|sender verification|(\[boxbe\]|boxbe)|spam ?arrest|your message (is )?awaiting (your )?(confirmation|verification)|bitte bestatigen sie", EvidenceIndication.AutoReply, AutoReplyKind.ChallengeResponse, true),
            // Non-standard bounces: what MTAs put in the subject (Postfix, sendmail, qmail, Exim, Exchange, Domino, Gmail, ...)
            new SubjectPhrase("BounceSubject", "MTA convention (Postfix, sendmail, qmail, Exim, Exchange, Domino, Gmail)", @"undeliver(able|ed)|undelivered mail|non[- ]?deliver(able|y)|delivery (status notification|notification|failure|failed|has failed|problem|report|status)|(mail|message) delivery (failed|failure|problem|error|status|notification)|returned mail|returned to sender|failure notice|failed delivery|could not (be )?deliver|message not delivered|mail system error|warning: could not send|mail could not be delivered|notice: mail delivery|delivery failure",
                EvidenceIndication.Bounce, AutoReplyKind.None, false),
            new SubjectPhrase("BounceSubject", "MTA convention (localised Exchange, Gmail, Domino)", @"unzustellbar|nicht zustellbar|zustellung fehlgeschlagen|benachrichtigung zum ubermittlungsstatus|ubermittlungsstatus|non remis|non distribuable|impossible de remettre|echec de (la )?(remise|distribution)|non recapitabile|mancato recapito|onbestelbaar|niet bezorgd|no se puede entregar|no entregado|notificacion de estado de entrega|nao entregue|nao foi possivel entregar|niedostarczalne|nie dostarczono|olevererbar|kunde inte levereras|ikke leveret|kan ikke leveres|ei voitu toimittaa|nedorucitelne|kezbesithetetlen|nepristatoma|nepiegadajams|teslim edilemedi|недоставлен|не доставлено|ошибка доставки|配信不能|配信エラー|送信エラー|メールエラー|不達|无法投递|退信",
                EvidenceIndication.Bounce, AutoReplyKind.None, false),
        };

        // One pass that says whether any phrase starts the subject at all (most subjects: none), before the per-phrase rules.
        private static readonly Regex AnySubjectPhrase = new Regex(@"^(" + string.Join("|", SubjectPhrases.Select(p => p.Pattern)) + ")", Lower, RegexTimeout);

        private static readonly Regex StrongRest = new Regex(@"^\s*[:：]", Lower, RegexTimeout);
        // After the phrase: nothing, a separator, a date or "until", or the original subject behind a reply prefix.
        private static readonly Regex ModerateRest = new Regex(@"^(\s*$|\s*[-–!.,(\[]|\s+(until|till|bis|from|vom|ab|du|jusqu|dal|al|hasta|tot|do|till|returning|back|zuruck|\d)|\s+" + ReplyPrefix + @"\s*[:：]|\s+(alert|notice|notification|reply|message|nachricht|info)\b)", Lower, RegexTimeout);
        private static readonly Regex WordBoundaryRest = new Regex(@"^($|[^\p{L}\p{N}])", Lower, RegexTimeout);

        public static void Apply(HeaderIndex headers, Findings found)
        {
            var raw = First(headers, "Subject");
            if (raw == null)
                return;
            var subject = Normalize(raw.Length > MaxSubjectLength ? raw.Substring(0, MaxSubjectLength) : raw).Trim();
            subject = LeadingTags.Replace(subject, string.Empty, 1);

            // A person forwarding something (perhaps a bounce or an out-of-office) is a person.
            if (SafeMatch(LeadingForward, subject))
            {
                found.Add("ForwardedByPerson", "convention", $"Subject: {raw.Trim()}", 0.3, EvidenceIndication.Human);
                return;
            }
            // A reply prefix first: whatever follows is the quoted original subject, not the responder's words.
            if (SafeMatch(LeadingReplyOrForward, subject))
                return;

            if (!SafeMatch(AnySubjectPhrase, subject))
                return;
            foreach (var phrase in SubjectPhrases)
            {
                var m = SafeRegexMatch(phrase.Regex, subject);
                if (m == null || !m.Success)
                    continue;
                var rest = m.Groups["rest"].Value;
                var phraseText = m.Groups[1].Value;
                var endsInLatinLetter = phraseText.Length > 0 && phraseText[phraseText.Length - 1] < 0x250 && char.IsLetter(phraseText[phraseText.Length - 1]);
                if (endsInLatinLetter && !SafeMatch(WordBoundaryRest, rest))
                    continue; // "absences" or "autobahn": not the word (scripts without spaces, e.g. Japanese, have no word boundary)
                double weight;
                string form;
                if (SafeMatch(StrongRest, rest))
                {
                    weight = phrase.Ambiguous ? 0.55 : 0.8;
                    form = "prefix form";
                }
                else if (SafeMatch(ModerateRest, rest))
                {
                    weight = phrase.Ambiguous ? 0.45 : (phrase.Indicates == EvidenceIndication.Bounce ? 0.75 : 0.55);
                    form = "at the start";
                }
                else
                {
                    weight = phrase.Ambiguous ? 0.25 : (phrase.Indicates == EvidenceIndication.Bounce ? 0.6 : 0.4);
                    form = "at the start, followed by other words";
                }
                found.Add(phrase.Rule, phrase.Source, $"Subject ({form}): {raw.Trim()}", weight, phrase.Indicates, phrase.Kind);
                return; // one subject finding is enough
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace ReplyAdmin.Engine.Classification
{
    /// <summary>Where a finding came from; text findings count only as weak evidence (the strongest one, not their sum).</summary>
    internal enum EvidenceLayer
    {
        Header,
        Structure,
        Text,
    }

    /// <summary>One piece of evidence and the layer it came from.</summary>
    internal sealed class Finding
    {
        public Finding(ClassificationEvidence evidence, EvidenceLayer layer)
        {
            Evidence = evidence;
            Layer = layer;
        }

        public ClassificationEvidence Evidence { get; }
        public EvidenceLayer Layer { get; }
    }

    /// <summary>The findings gathered for one message.</summary>
    internal sealed class Findings : List<Finding>
    {
        public void Add(string rule, string source, string detail, double weight, EvidenceIndication indicates,
            AutoReplyKind kind = AutoReplyKind.None, EvidenceLayer layer = EvidenceLayer.Header) =>
            Add(new Finding(new ClassificationEvidence(rule, source, Shorten(detail), weight, indicates, kind), layer));

        public void Note(string rule, string source, string detail) => Add(rule, source, detail, 0, EvidenceIndication.Note);

        private static string Shorten(string s)
        {
            s = (s ?? string.Empty).Replace('\r', ' ').Replace('\n', ' ').Replace('\t', ' ');
            return s.Length > 160 ? s.Substring(0, 157) + "..." : s;
        }
    }

    /// <summary>
    /// Every classification rule, in one place. Each rule names its source (an RFC or the vendor whose software
    /// behaves that way) and carries a weight from 0 to 1. Weights combine as independent evidence
    /// (1 - Π(1 - w)); a message is auto-generated when the combined weight, lowered by evidence for a person,
    /// reaches <see cref="ReplyClassifier.DecisionThreshold"/> (0.70).
    /// <para>Calibration: 0.9 and above decides alone (standard or vendor marker headers, DSN structure);
    /// 0.75–0.8 decides alone but is a convention, not a marker (anchored subject prefixes, MAILER-DAEMON);
    /// 0.5–0.6 is moderate and needs a second signal; text found in the body is weak (at most 0.55, and only the
    /// strongest text finding counts), so the body alone never filters a message.</para>
    /// <para>Direction of doubt: the Exclude setting drops what is classified as auto-generated, and dropping a real
    /// customer's reply is the worst mistake; so every rule errs towards Human.</para>
    /// </summary>
    internal static class ClassificationRules
    {
        private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);
        // Not RegexOptions.Compiled: compiling the several dozen patterns cost each run about 0.4 s of code generation and JIT,
        // more than the interpreter loses on a run's matches (the engine loop classifies as fast either way).
        private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;
        // Subjects and body text are normalised to lower case first (Normalize): their patterns need no case folding.
        private const RegexOptions Lower = RegexOptions.CultureInvariant;
        private const int MaxSubjectLength = 1000;
        private const int MaxTextLength = 6000;

        // ------------------------------------------------------------------------------------------------
        // 1. Header rules (no body needed)
        // ------------------------------------------------------------------------------------------------

        /// <summary>Applies every header rule.</summary>
        public static void ApplyHeaderRules(HeaderList list, Findings found)
        {
            var headers = new HeaderIndex(list);
            // Our own loop guard (ReplyAdmin): the forwarder adds it, so the message has been through us already.
            var loop = First(headers, LoopGuard.HeaderName);
            if (loop != null)
                found.Add("LoopGuardHeader", "ReplyAdmin", $"{LoopGuard.HeaderName}: {loop}", 0.99, EvidenceIndication.Loop);

            AutoSubmitted(headers, found);
            ReportContentType(headers, found);
            VendorHeaders(headers, found);
            Precedence(headers, found);
            ListHeaders(headers, found);
            Senders(headers, found);
            Subject(headers, found);
        }

        // RFC 3834 §5: Auto-Submitted is the standard marker. Any value other than "no" means automatic; "no" means
        // a person sent it (FreeScout and Discourse got this wrong), so it is evidence FOR a person.
        // auto-replied is also set by some MTAs on bounces (Exim), so it does not by itself say bounce or auto-reply.
        private static void AutoSubmitted(HeaderIndex headers, Findings found)
        {
            var value = First(headers, "Auto-Submitted");
            if (value == null)
                return;
            var token = Token(value);
            var detail = $"Auto-Submitted: {value.Trim()}";
            switch (token)
            {
                case "":
                    found.Note("AutoSubmittedEmpty", "RFC 3834", detail);
                    break;
                case "no":
                    found.Add("AutoSubmittedNo", "RFC 3834", detail, 0.6, EvidenceIndication.Human);
                    break;
                case "auto-replied":
                    found.Add("AutoSubmittedHeader", "RFC 3834", detail, 0.95, EvidenceIndication.AutoGenerated,
                        value.IndexOf("vacation", StringComparison.OrdinalIgnoreCase) >= 0 ? AutoReplyKind.OutOfOffice : AutoReplyKind.None);
                    break;
                case "auto-generated":
                case "auto-notified": // RFC 5436 (Sieve notify)
                    found.Add("AutoSubmittedHeader", token == "auto-notified" ? "RFC 5436" : "RFC 3834", detail, 0.95, EvidenceIndication.AutoGenerated);
                    break;
                default: // RFC 3834: any value but "no" is automatic; an unknown keyword is a little less certain
                    found.Add("AutoSubmittedHeader", "RFC 3834", detail, 0.85, EvidenceIndication.AutoGenerated);
                    break;
            }
        }

        // RFC 6522 / RFC 3464: a top-level multipart/report is always machine-made; its report-type says what it is.
        private static void ReportContentType(HeaderIndex headers, Findings found)
        {
            var value = First(headers, "Content-Type");
            if (value == null || value.IndexOf("report", StringComparison.OrdinalIgnoreCase) < 0
                || !ContentType.TryParse(value, out var type) || !type.IsMimeType("multipart", "report"))
                return;
            var reportType = (type.Parameters["report-type"] ?? string.Empty).Trim().ToLowerInvariant();
            var detail = $"Content-Type: multipart/report; report-type={reportType}";
            switch (reportType)
            {
                case "delivery-status":        // RFC 3464
                case "global-delivery-status": // RFC 6533
                    found.Add("DeliveryStatusReport", reportType == "delivery-status" ? "RFC 3464/6522" : "RFC 6533", detail, 0.97, EvidenceIndication.Bounce);
                    break;
                case "disposition-notification": // RFC 8098 read receipt
                    found.Add("DispositionNotificationReport", "RFC 8098", detail, 0.95, EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement);
                    break;
                case "feedback-report": // RFC 5965 abuse report
                    found.Add("FeedbackReport", "RFC 5965", detail, 0.95, EvidenceIndication.AutoGenerated);
                    break;
                default:
                    found.Add("MultipartReport", "RFC 6522", detail, 0.6, EvidenceIndication.AutoGenerated);
                    break;
            }
        }

        /// <summary>A marker header some software adds to what it generates.</summary>
        private sealed class HeaderRule
        {
            public HeaderRule(string header, string rule, string source, double weight, EvidenceIndication indicates,
                AutoReplyKind kind = AutoReplyKind.None, string valuePattern = null)
            {
                Header = header;
                Rule = rule;
                Source = source;
                Weight = weight;
                Indicates = indicates;
                Kind = kind;
                Value = valuePattern == null ? null : new Regex(valuePattern, Options, RegexTimeout);
            }

            public string Header { get; }
            public string Rule { get; }
            public string Source { get; }
            public double Weight { get; }
            public EvidenceIndication Indicates { get; }
            public AutoReplyKind Kind { get; }
            public Regex Value { get; }
        }

        // A value that switches a marker off ("X-Autoreply: no").
        private static readonly Regex Negative = new Regex(@"^\s*(no|false|0|off)\s*$", Options, RegexTimeout);

        // Vendor marker headers, from responders that predate RFC 3834 or ignore it.
        private static readonly HeaderRule[] VendorRules =
        {
            // Gmail vacation responder, sendmail vacation(1) descendants, Yandex
            new HeaderRule("X-Autoreply", "XAutoreplyHeader", "vendor: Gmail, vacation(1)", 0.9, EvidenceIndication.AutoReply),
            // cPanel/Exim autoresponder
            new HeaderRule("X-Autorespond", "XAutorespondHeader", "vendor: cPanel/Exim", 0.9, EvidenceIndication.AutoReply),
            new HeaderRule("X-Autoresponder", "XAutoresponderHeader", "vendor: autoresponders", 0.9, EvidenceIndication.AutoReply),
            new HeaderRule("X-Auto-Reply", "XAutoReplyHeader", "vendor: autoresponders", 0.9, EvidenceIndication.AutoReply),
            // Outlook.com/Hotmail: "X-Autogenerated: Reply" on auto-replies; other values (Mirror, Forward) are copies of mail
            new HeaderRule("X-Autogenerated", "XAutogeneratedReply", "vendor: Outlook.com", 0.9, EvidenceIndication.AutoReply, valuePattern: "reply"),
            new HeaderRule("X-Autogenerated", "XAutogeneratedHeader", "vendor: Outlook.com", 0.6, EvidenceIndication.AutoGenerated, valuePattern: "^(?!.*reply)"),
            // FirstClass
            new HeaderRule("X-FC-MachineGenerated", "XFCMachineGenerated", "vendor: FirstClass", 0.9, EvidenceIndication.AutoGenerated),
            // Precedence spelled as an X- header by some responders
            new HeaderRule("X-Precedence", "XPrecedenceAutoReply", "vendor: autoresponders", 0.9, EvidenceIndication.AutoReply, valuePattern: @"^\s*auto[_-]?reply"),
            // Apple iCloud vacation
            new HeaderRule("X-Apple-Action", "AppleVacation", "vendor: Apple iCloud", 0.9, EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice, "vacation"),
            // OTRS/Znuny auto-responses carry their loop marker
            new HeaderRule("X-OTRS-Loop", "OtrsLoopHeader", "vendor: OTRS/Znuny", 0.85, EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement),
            // Exim adds the recipients that failed to its bounces
            new HeaderRule("X-Failed-Recipients", "XFailedRecipients", "vendor: Exim", 0.9, EvidenceIndication.Bounce),
            // Exchange marks its non-delivery reports
            new HeaderRule("X-MS-Exchange-Message-Is-Ndr", "ExchangeNdr", "vendor: Exchange", 0.95, EvidenceIndication.Bounce),
            // Exchange: generated by a mailbox or transport rule agent (out-of-office, inbox-rule replies)
            new HeaderRule("X-MS-Exchange-Generated-Message-Source", "ExchangeGeneratedMessage", "vendor: Exchange", 0.6, EvidenceIndication.AutoGenerated),
            // A mailer that names itself an autoresponder
            new HeaderRule("X-Mailer", "AutoresponderMailer", "vendor: autoresponders", 0.7, EvidenceIndication.AutoReply, valuePattern: @"vacation|auto[-_ ]?respon|auto[-_ ]?reply"),
            // procmail/vacation loop marker; mailing lists and ticket systems add it too, so weak
            new HeaderRule("X-Loop", "XLoopHeader", "vendor: procmail, ticket systems", 0.3, EvidenceIndication.AutoGenerated),
        };

        private static void VendorHeaders(HeaderIndex headers, Findings found)
        {
            foreach (var rule in VendorRules)
            {
                var value = First(headers, rule.Header);
                if (value == null || Negative.IsMatch(value))
                    continue;
                if (rule.Value != null && !SafeMatch(rule.Value, value))
                    continue;
                found.Add(rule.Rule, rule.Source, $"{rule.Header}: {value.Trim()}", rule.Weight, rule.Indicates, rule.Kind);
            }

            // Exchange: X-Auto-Response-Suppress is a REQUEST not to auto-reply that Outlook puts on ordinary mail; alone it
            // says nothing about this message (Discourse once filtered real mail on it). Together with Exchange's inbox-rule
            // loop header it is the pair Exchange puts on its own out-of-office replies.
            var suppress = First(headers, "X-Auto-Response-Suppress");
            var rulesLoop = First(headers, "X-MS-Exchange-Inbox-Rules-Loop");
            if (rulesLoop != null && suppress != null)
                found.Add("ExchangeAutoReplyHeaders", "vendor: Exchange", $"X-MS-Exchange-Inbox-Rules-Loop: {rulesLoop.Trim()} with X-Auto-Response-Suppress: {suppress.Trim()}", 0.75, EvidenceIndication.AutoReply);
            else if (rulesLoop != null)
                found.Add("ExchangeInboxRulesLoop", "vendor: Exchange", $"X-MS-Exchange-Inbox-Rules-Loop: {rulesLoop.Trim()}", 0.5, EvidenceIndication.AutoGenerated);
            else if (suppress != null)
                found.Note("AutoResponseSuppressOnly", "vendor: Exchange", $"X-Auto-Response-Suppress: {suppress.Trim()} (a request not to auto-reply, sent on normal mail)");
        }

        // RFC 3834 §3.1.8 / RFC 2076: Precedence is non-standard. auto_reply is set by responders; junk by vacation(1).
        // bulk and list are set by mailing-list software that people write through (Zammad and Mailman filter those
        // people); they are shown but not counted.
        private static void Precedence(HeaderIndex headers, Findings found)
        {
            var value = First(headers, "Precedence");
            if (value == null)
                return;
            var token = Token(value);
            var detail = $"Precedence: {value.Trim()}";
            if (token == "auto_reply" || token == "auto-reply")
                found.Add("PrecedenceAutoReply", "RFC 3834 §3.1.8", detail, 0.9, EvidenceIndication.AutoReply);
            else if (token == "junk")
                found.Add("PrecedenceJunk", "vendor: vacation(1)", detail, 0.5, EvidenceIndication.AutoGenerated);
            else
                found.Note("PrecedenceNotCounted", "RFC 2076", detail + " (list software, people write through it)");
        }

        // RFC 2369/2919: list headers say a list distributed the message, not that a machine wrote it. Not counted.
        private static void ListHeaders(HeaderIndex headers, Findings found)
        {
            var listId = First(headers, "List-Id") ?? First(headers, "List-Post") ?? First(headers, "List-Unsubscribe");
            if (listId != null)
                found.Note("ListHeadersNotCounted", "RFC 2369/2919", "mailing-list headers (people write through lists)");
        }

        private static readonly Regex DaemonLocalPart = new Regex(@"^(mailer[-_.]?daemon|mail[-_.]?daemon|maildaemon|mdaemon|mailerdaemon)$", Options, RegexTimeout);
        private static readonly Regex PostmasterLocalPart = new Regex(@"^post[-_.]?master$", Options, RegexTimeout);
        private static readonly Regex ExchangeSystemLocalPart = new Regex(@"^microsoftexchange[0-9a-f]{20,}$", Options, RegexTimeout);
        private static readonly Regex DeliveryDisplayName = new Regex(@"^\W*(mail delivery (system|subsystem|service)|mailer[- ]daemon|mail administrator|post office|postmaster|microsoft outlook|microsoft exchange|mail system|e-?mail delivery)\W*$", Options, RegexTimeout);
        private static readonly Regex NoReplyLocalPart = new Regex(@"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-_.].*|.*[-_.]noreply)$", Options, RegexTimeout);
        private static readonly Regex AutoReplyLocalPart = new Regex(@"^(auto[-_.]?reply|auto[-_.]?responder|auto[-_.]?response|vacation)$", Options, RegexTimeout);

        private static void Senders(HeaderIndex headers, Findings found)
        {
            // RFC 5321 §4.5.5 / RFC 3834 §3.3: notifications and automatic responses go out with a null reverse-path;
            // delivery records it as Return-Path: <>. Bounces and auto-replies both do it: it does not say which.
            var returnPath = First(headers, "Return-Path");
            if (returnPath != null && Regex.IsMatch(returnPath, @"^\s*<\s*>\s*$"))
                found.Add("NullReturnPath", "RFC 5321 §4.5.5, RFC 3834 §3.3", "Return-Path: <>", 0.55, EvidenceIndication.AutoGenerated);

            var from = First(headers, "From");
            if (from == null)
                return;
            string local = null, name = null;
            if (InternetAddressList.TryParse(from, out var list) && list.Mailboxes.FirstOrDefault() is MailboxAddress mailbox)
            {
                local = mailbox.LocalPart;
                name = mailbox.Name;
                if (string.IsNullOrEmpty(mailbox.Address))
                    local = name; // "MAILER-DAEMON <>": the name is all there is
            }
            else
            {
                var m = Regex.Match(from, @"([^\s<>""@,;:]+)@");
                local = m.Success ? m.Groups[1].Value : from.Trim().Trim('<', '>');
            }
            local = local ?? string.Empty;

            // RFC 5321 §4.5.5 / RFC 3464: delivery reports come from the mail system itself.
            if (SafeMatch(DaemonLocalPart, local))
                found.Add("MailerDaemonSender", "RFC 3464, MTA convention", $"From: {from.Trim()}", 0.8, EvidenceIndication.Bounce);
            else if (SafeMatch(PostmasterLocalPart, local))
                // RFC 5321 §4.5.1: postmaster is a person's role mailbox too; moderate only.
                found.Add("PostmasterSender", "RFC 5321 §4.5.1", $"From: {from.Trim()}", 0.55, EvidenceIndication.Bounce);
            else if (SafeMatch(ExchangeSystemLocalPart, local))
                found.Add("ExchangeSystemSender", "vendor: Exchange", $"From: {from.Trim()}", 0.75, EvidenceIndication.Bounce);
            else if (SafeMatch(AutoReplyLocalPart, local))
                found.Add("AutoReplySender", "convention", $"From: {from.Trim()}", 0.6, EvidenceIndication.AutoReply);
            else if (SafeMatch(NoReplyLocalPart, local))
                // People do reply from addresses that look like this (shared mailboxes); weak.
                found.Add("NoReplySender", "convention", $"From: {from.Trim()}", 0.3, EvidenceIndication.AutoGenerated);

            if (!string.IsNullOrEmpty(name) && SafeMatch(DeliveryDisplayName, name) && !SafeMatch(DaemonLocalPart, local))
                found.Add("DeliverySystemName", "MTA convention", $"From name: {name}", 0.5, EvidenceIndication.Bounce);
        }

        // ------------------------------------------------------------------------------------------------
        // 2. Subject rules. The subject is normalised (lower case, accents removed) and only the part a responder
        //    writes counts: the start of the subject, before any reply/forward prefix. "Re: Out of office policy"
        //    and "AW: Automatische Antwort: ..." are a person's subjects (the phrase is quoted from the original).
        // ------------------------------------------------------------------------------------------------

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

        private static void Subject(HeaderIndex headers, Findings found)
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

        // ------------------------------------------------------------------------------------------------
        // 3. Structure rules (need the parsed message). Attached messages (message/rfc822) are not looked into:
        //    a person forwarding a bounce as an attachment is a person.
        // ------------------------------------------------------------------------------------------------

        /// <summary>Applies the structure and text rules to a parsed message.</summary>
        public static void ApplyBodyRules(MimeMessage message, Findings found)
        {
            var state = new WalkState();
            Walk(message.Body, state, 0);
            if (state.Text == null && state.Html != null)
                state.Text = StripHtml(state.Html);
            if (string.IsNullOrWhiteSpace(state.Text))
                state.Text = state.Fallback;
            if (state.DeliveryStatus != null && !found.Any(f => f.Evidence.Rule == "DeliveryStatusReport"))
                // RFC 3464 §2: the machine-readable delivery status part (also seen inside multipart/mixed of non-conforming MTAs)
                found.Add("DeliveryStatusPart", "RFC 3464", $"a {state.DeliveryStatus} part", 0.95, EvidenceIndication.Bounce, layer: EvidenceLayer.Structure);
            if (state.Disposition && !found.Any(f => f.Evidence.Rule == "DispositionNotificationReport"))
                found.Add("DispositionNotificationPart", "RFC 8098", "a message/disposition-notification part", 0.9, EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement, EvidenceLayer.Structure);
            if (state.Feedback && !found.Any(f => f.Evidence.Rule == "FeedbackReport"))
                found.Add("FeedbackReportPart", "RFC 5965", "a message/feedback-report part", 0.9, EvidenceIndication.AutoGenerated, layer: EvidenceLayer.Structure);
            if (state.ReturnedHeaders)
                // RFC 6522 §4: text/rfc822-headers returns the headers of an undelivered message
                found.Add("ReturnedHeadersPart", "RFC 6522", "a text/rfc822-headers part", 0.5, EvidenceIndication.Bounce, layer: EvidenceLayer.Structure);

            var text = OwnText(state.Text);
            if (text.Length > 0)
                ApplyTextRules(text, found);
        }

        private sealed class WalkState
        {
            public string DeliveryStatus;
            public bool Disposition;
            public bool Feedback;
            public bool ReturnedHeaders;
            public string Text;
            public string Html;
            public string Fallback;
        }

        private static void Walk(MimeEntity entity, WalkState state, int depth)
        {
            if (entity == null || depth > 20)
                return;
            if (entity is Multipart multipart)
            {
                // A multipart whose boundary parameter was lost (a broken header fold) keeps everything in its preamble.
                if (multipart.Count == 0 && state.Fallback == null && !string.IsNullOrEmpty(multipart.Preamble))
                    state.Fallback = multipart.Preamble.Length > MaxTextLength * 4 ? multipart.Preamble.Substring(0, MaxTextLength * 4) : multipart.Preamble;
                foreach (var child in multipart)
                    Walk(child, state, depth + 1);
                return;
            }
            var type = entity.ContentType;
            if (type.IsMimeType("message", "delivery-status") || type.IsMimeType("message", "global-delivery-status"))
                state.DeliveryStatus = state.DeliveryStatus ?? type.MimeType.ToLowerInvariant();
            else if (type.IsMimeType("message", "disposition-notification") || type.IsMimeType("message", "global-disposition-notification"))
                state.Disposition = true;
            else if (type.IsMimeType("message", "feedback-report"))
                state.Feedback = true;
            else if (type.IsMimeType("text", "rfc822-headers") || type.IsMimeType("text", "global-headers"))
                state.ReturnedHeaders = true;
            else if (entity is TextPart part && !(entity.IsAttachment && depth > 0))
            {
                if (part.IsPlain && state.Text == null)
                    state.Text = SafeText(part);
                else if (part.IsHtml && state.Html == null)
                    state.Html = SafeText(part);
            }
        }

        private static string SafeText(TextPart part)
        {
            try
            {
                var text = part.Text ?? string.Empty;
                return text.Length > MaxTextLength * 4 ? text.Substring(0, MaxTextLength * 4) : text;
            }
            catch (Exception)
            {
                return string.Empty; // unknown charset or broken encoding: no text evidence
            }
        }

        private static string StripHtml(string html)
        {
            var s = Regex.Replace(html, @"<(script|style)[^>]*>.*?</\1>", " ", Options | RegexOptions.Singleline, RegexTimeout);
            s = Regex.Replace(s, @"<br\s*/?>|</p>|</div>", "\n", Options, RegexTimeout);
            s = Regex.Replace(s, @"<blockquote.*", " ", Options | RegexOptions.Singleline, RegexTimeout); // quoted original
            s = Regex.Replace(s, @"<[^>]*>", " ", Options, RegexTimeout);
            return System.Net.WebUtility.HtmlDecode(s);
        }

        // Where the writer's own text ends: quoted lines, the quoted/forwarded original, an attached original.
        private static readonly Regex QuoteStart = new Regex(
            @"^\s*(-{2,}\s*(original message|ursprungliche nachricht|message d'origine|messaggio originale|oorspronkelijk bericht|mensaje original|wiadomosc oryginalna|ursprungligt meddelande)\s*-{2,}" +
            @"|-{2,}\s*forwarded message\s*-{2,}|begin forwarded message|-{2,}\s*weitergeleitete nachricht\s*-{2,}" +
            @"|on .{0,200}wrote:\s*$|am .{0,200}schrieb.{0,80}:\s*$|le .{0,200}a ecrit\s*:\s*$|il .{0,200}ha scritto:\s*$|op .{0,200}schreef.{0,80}:\s*$|el .{0,200}escribio:\s*$" +
            @"|(from|von|de|da|van|od|fran|lahettaja)\s*:\s.*\s+(sent|gesendet|envoye|inviato|verzonden|wyslano|enviado|skickat|date|datum)\s*:)",
            Lower | RegexOptions.Multiline, RegexTimeout);

        private static string OwnText(string text)
        {
            if (string.IsNullOrEmpty(text))
                return string.Empty;
            var normalized = Normalize(text.Length > MaxTextLength * 2 ? text.Substring(0, MaxTextLength * 2) : text);
            var m = SafeRegexMatch(QuoteStart, normalized);
            if (m != null && m.Success)
                normalized = normalized.Substring(0, m.Index);
            var lines = normalized.Split('\n').Where(l => !l.TrimStart().StartsWith(">", StringComparison.Ordinal));
            var own = string.Join("\n", lines);
            own = Regex.Replace(own, @"[ \t\r]+", " ");
            return own.Length > MaxTextLength ? own.Substring(0, MaxTextLength) : own;
        }

        // ------------------------------------------------------------------------------------------------
        // 4. Text rules: weak evidence from the writer's own text (quotes cut off). Only the strongest counts.
        // ------------------------------------------------------------------------------------------------

        private sealed class TextRule
        {
            public TextRule(string rule, string source, double weight, EvidenceIndication indicates, AutoReplyKind kind, string pattern)
            {
                Rule = rule;
                Source = source;
                Weight = weight;
                Indicates = indicates;
                Kind = kind;
                Regex = new Regex(pattern, Lower, RegexTimeout);
            }

            public string Rule { get; }
            public string Source { get; }
            public double Weight { get; }
            public EvidenceIndication Indicates { get; }
            public AutoReplyKind Kind { get; }
            public Regex Regex { get; }
        }

        private static readonly TextRule[] TextRules =
        {
            // The banners MTAs write at the top of their non-RFC-3464 bounces.
            new TextRule("BounceBanner", "vendor: qmail, Exim, Postfix, sendmail, Exchange, Gmail, Domino", 0.55, EvidenceIndication.Bounce, AutoReplyKind.None,
                @"this is the qmail-send program|created automatically by mail delivery software|i'm sorry to have to inform you that your message could not|i'm afraid i wasn't able to deliver|the following addresses had permanent fatal errors|the original message was received at|delivery to the following recipients? (failed|has failed|was delayed)|delivery has failed to these recipients|your message (could not|cannot|couldn't|wasn't|was not) (be )?delivered|could not be delivered to (one or more|the following) recipients?|this is an automatically generated delivery status notification|unable to deliver (your|the) message|message could not be delivered|the following message to .{1,100} was undeliverable|this message was undeliverable|your message did not reach some or all of the intended recipients|diese nachricht wurde automatisch von der e-?mail-software erstellt|konnte nicht (an alle empfanger )?zugestellt werden|votre message n'a pas pu etre (remis|distribue)|il messaggio non (e stato|puo essere) recapitato|no se (ha podido|pudo) entregar|kon niet worden (bezorgd|afgeleverd)|nie mozna dostarczyc"),
            // RFC 3464 fields written into a text part by MTAs that do not send the MIME structure.
            new TextRule("DeliveryStatusFields", "RFC 3464 (as text)", 0.5, EvidenceIndication.Bounce, AutoReplyKind.None,
                @"(^|\n)\s*(final-recipient|diagnostic-code|original-recipient)\s*:\s*\S|(^|\n)\s*action\s*:\s*(failed|delayed)\b"),
            // SMTP errors quoted in a bounce.
            new TextRule("SmtpErrorText", "RFC 5321 reply codes", 0.35, EvidenceIndication.Bounce, AutoReplyKind.None,
                @"\b5[05][0-9][ -]5\.\d{1,3}\.\d{1,3}\b|\b(user unknown|unknown user|no such user|mailbox (unavailable|not found|is full|full)|recipient address rejected|host or domain name not found|quota exceeded|remote host said|smtp error|requested action not taken|could not be delivered)\b"),
            // Out-of-office wording (first person, present) in many languages.
            new TextRule("OutOfOfficeText", "convention (vacation and OOF texts)", 0.35, EvidenceIndication.AutoReply, AutoReplyKind.OutOfOffice,
                @"\bi('m| am| will be) (currently |now )?(out of|away from) (the |my )?office|\bi('m| am| will be) (currently |now )?(on|away on) (vacation|holiday|leave|annual leave)|\b(out of (the )?office|on (vacation|holiday|leave)) (until|till|from|through|and will)|limited access to (my )?e-?mail|\bi will (respond|reply|get back to you) (to your (message|e-?mail) )?(when|upon|after) (i|my) return|ich bin (bis|vom|ab|derzeit|zurzeit|zur zeit|momentan|leider) .{0,80}(nicht im buro|abwesend|im urlaub|nicht erreichbar|ausser haus)|bin ich (nicht|nur eingeschrankt) erreichbar|je suis absente? |absente? du bureau|sono (fuori|assente)|fuori ufficio fino|ik ben (afwezig|niet aanwezig|op vakantie)|estoy fuera de la oficina|estare fuera|jestem (poza biurem|nieobecn)|jag ar (borta|ledig|franvarande)"),
            new TextRule("AutomaticReplyText", "convention (responder texts)", 0.35, EvidenceIndication.AutoReply, AutoReplyKind.Other,
                @"this is an auto(matic|mated)(ally generated)?[- ]?(reply|response|message)|this (message|e-?mail) (was|has been) (automatically generated|sent automatically)|dies ist eine automatische (antwort|nachricht|e-?mail)|automatisch (generierte|erzeugte) (antwort|nachricht)|ceci est une reponse automatique|questa e una risposta automatica|esta es una respuesta automatica|dit is een automatisch|to jest automatyczna odpowiedz"),
            new TextRule("AcknowledgementText", "convention (ticket systems)", 0.35, EvidenceIndication.AutoReply, AutoReplyKind.AutoAcknowledgement,
                @"we have received your (message|request|e-?mail|inquiry|enquiry)|thank you for contacting (us|our)|your (request|ticket|case) (has been|was) (received|created|logged)|(ticket|case|request) (number|id|#) ?(is )?:? ?#?\w*\d|wir haben ihre (nachricht|anfrage|e-?mail) erhalten|nous avons bien recu votre"),
            new TextRule("ChallengeResponseText", "convention (challenge-response)", 0.35, EvidenceIndication.AutoReply, AutoReplyKind.ChallengeResponse,
                @"(verify|confirm) that you are (a real person|human|not a (robot|spammer))|sender verification|to (get|have) your (message|e-?mail) delivered,? (please )?(click|reply|confirm)|added to (my|the) approved senders"),
        };

        private static void ApplyTextRules(string text, Findings found)
        {
            foreach (var rule in TextRules)
            {
                var m = SafeRegexMatch(rule.Regex, text);
                if (m == null || !m.Success)
                    continue;
                found.Add(rule.Rule, rule.Source, $"text: \"{m.Value.Trim()}\"", rule.Weight, rule.Indicates, rule.Kind, EvidenceLayer.Text);
            }
        }

        // ------------------------------------------------------------------------------------------------
        // Helpers
        // ------------------------------------------------------------------------------------------------

        /// <summary>The first value of a header, decoded; null when absent or unreadable.</summary>
        private static string First(HeaderIndex headers, string name) => headers.First(name);

        /// <summary>
        /// The first occurrence of each header field, indexed in one pass; values are decoded only when asked for
        /// (Received and other long headers are never decoded).
        /// </summary>
        private sealed class HeaderIndex
        {
            private readonly Dictionary<string, Header> _first = new Dictionary<string, Header>(StringComparer.OrdinalIgnoreCase);

            public HeaderIndex(HeaderList headers)
            {
                foreach (var header in headers)
                {
                    if (header.Field != null && !_first.ContainsKey(header.Field))
                        _first.Add(header.Field, header);
                }
            }

            public string First(string name)
            {
                if (!_first.TryGetValue(name, out var header))
                    return null;
                try
                {
                    return header.Value ?? string.Empty;
                }
                catch (Exception)
                {
                    return null; // undecodable header: treated as absent
                }
            }
        }

        // The first word of a header value: "auto-replied (vacation)" → "auto-replied".
        private static string Token(string value)
        {
            var v = value.Trim();
            var end = v.IndexOfAny(new[] { ';', '(', ' ', '\t', ',' });
            return (end < 0 ? v : v.Substring(0, end)).Trim().ToLowerInvariant();
        }

        /// <summary>Lower case, accents removed (ä→a, é→e, ł→l, ß→ss), typographic apostrophes straightened, NULs dropped.</summary>
        internal static string Normalize(string s)
        {
            if (string.IsNullOrEmpty(s))
                return string.Empty;
            var decomposed = s.Normalize(NormalizationForm.FormD);
            var sb = new StringBuilder(decomposed.Length);
            foreach (var c in decomposed)
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(c);
                if (category == UnicodeCategory.NonSpacingMark || c == '\0')
                    continue;
                switch (c)
                {
                    case 'ł': case 'Ł': sb.Append('l'); break;
                    case 'ß': sb.Append("ss"); break;
                    case 'ø': case 'Ø': sb.Append('o'); break;
                    case 'æ': case 'Æ': sb.Append("ae"); break;
                    case '\u2019': case '\u2018': sb.Append('\''); break;
                    case '\u00A0': sb.Append(' '); break;
                    default: sb.Append(char.ToLowerInvariant(c)); break;
                }
            }
            return sb.ToString();
        }

        private static bool SafeMatch(Regex regex, string input)
        {
            var m = SafeRegexMatch(regex, input);
            return m != null && m.Success;
        }

        private static Match SafeRegexMatch(Regex regex, string input)
        {
            try
            {
                return regex.Match(input ?? string.Empty);
            }
            catch (RegexMatchTimeoutException)
            {
                return null; // pathological input: no evidence rather than a hang
            }
        }
    }
}

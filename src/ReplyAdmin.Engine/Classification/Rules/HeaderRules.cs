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
    /// <summary>Header rules: they need no body. The subject has its own file (<see cref="SubjectRules"/>).</summary>
    internal static class HeaderRules
    {
        /// <summary>Applies every header rule.</summary>
        public static void Apply(HeaderList list, Findings found, RelayIdentity relay = null)
        {
            var headers = new HeaderIndex(list);
            // Our own loop guard (ReplyAdmin): the forwarder adds it, so the message has been through us already.
            var loop = First(headers, LoopGuard.HeaderName);
            if (loop != null)
                found.Add("LoopGuardHeader", "ReplyAdmin", $"{LoopGuard.HeaderName}: {loop}", 0.99, EvidenceIndication.Loop);
            OwnForward(list, found, relay ?? RelayIdentity.None);

            AutoSubmitted(headers, found);
            ReportContentType(headers, found);
            VendorHeaders(headers, found);
            var viaList = HasListHeaders(headers) || string.Equals(Token(First(headers, "Precedence") ?? string.Empty), "list", StringComparison.Ordinal);
            Precedence(headers, found, viaList);
            XLoop(headers, found, viaList);
            ListHeaders(found, HasListHeaders(headers));
            Senders(headers, found);
            SubjectRules.Apply(headers, found);
            WantReportAction(headers, found);
        }

        // Our forward come back without the loop-guard header (a relay on the way stripped X- headers): what the forwarder
        // writes that others keep. Each piece of evidence alone decides; all that is seen goes into the journal.
        private static void OwnForward(HeaderList list, Findings found, RelayIdentity relay)
        {
            var resentBlocks = 0;
            var resentDates = 0;
            var resentFroms = 0;
            var resentIds = 0;
            foreach (var header in list)
            {
                switch (header.Id)
                {
                    case HeaderId.ResentDate: resentDates++; break;
                    case HeaderId.ResentMessageId: resentIds++; break;
                    case HeaderId.ResentFrom: resentFroms++; break;
                }
            }
            // RFC 5322 3.6.6: one block per resend; Resent-Date is required in each, the others count where it was left out.
            resentBlocks = Math.Max(resentDates, Math.Max(resentFroms, resentIds));
            if (resentBlocks == 0 && relay.EnvelopeSender == null)
                return;

            var sender = relay.EnvelopeSender;
            var idDomain = relay.MessageIdDomain;
            foreach (var header in list)
            {
                string value;
                try { value = header.Value ?? string.Empty; } catch (Exception) { continue; }
                switch (header.Id)
                {
                    // (a) The envelope sender of our forwards: our Resent-From, and the Return-Path the delivering server wrote.
                    case HeaderId.ResentFrom when sender != null && SameAddress(value, sender):
                        found.Add("LoopResentFrom", "ReplyAdmin", $"Resent-From: {value.Trim()} is the relay's envelope sender", 0.99, EvidenceIndication.Loop);
                        break;
                    case HeaderId.ReturnPath when sender != null && SameAddress(value, sender):
                        found.Add("LoopReturnPath", "ReplyAdmin", $"Return-Path: {value.Trim()} is the relay's envelope sender", 0.99, EvidenceIndication.Loop);
                        break;
                    // (b) A Resent-Message-ID of the form only our forwarder writes: fwd.<128-bit content hash>@<envelope sender's domain>.
                    case HeaderId.ResentMessageId when IsOurResentMessageId(value, idDomain):
                        found.Add("LoopResentMessageId", "ReplyAdmin", $"Resent-Message-ID: {value.Trim()} is of the form our forwarder writes", 0.99, EvidenceIndication.Loop);
                        break;
                    // (d) Our DKIM signature: the relay's domain, over a Resent-Message-ID. A campaign's signature of the same
                    // domain (a customer resending the campaign) never covers a Resent-* field, so it does not count.
                    case HeaderId.DkimSignature when resentBlocks > 0 && relay.DkimDomain != null && IsOurSignature(value, relay.DkimDomain):
                        found.Add("LoopRelaySignature", "ReplyAdmin", $"DKIM-Signature of the relay's domain {relay.DkimDomain} over the Resent-* block", 0.99, EvidenceIndication.Loop);
                        break;
                }
            }
            // (c) Whoever forwarded it: more resends than any real handling needs means a loop.
            if (resentBlocks > LoopGuard.MaxResentBlocks)
                found.Add("LoopResentBlocks", "RFC 5322 3.6.6", $"{resentBlocks} Resent-* blocks (more than {LoopGuard.MaxResentBlocks})", 0.95, EvidenceIndication.Loop);
        }

        private static bool SameAddress(string value, string address)
        {
            var v = value.Trim();
            if (InternetAddressList.TryParse(v, out var list) && list.Mailboxes.Any())
                return list.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase));
            return string.Equals(v.Trim('<', '>', ' '), address, StringComparison.OrdinalIgnoreCase);
        }

        private static readonly Regex OurResentId = new Regex(@"^\s*<?fwd\.[0-9a-f]{32}@([^>\s]+)>?\s*$", RegexOptions.CultureInvariant);

        internal static bool IsOurResentMessageId(string value, string domain)
        {
            var match = OurResentId.Match(value);
            // Without a configured envelope sender the forwarder uses the forward address's domain: the form alone decides.
            return match.Success && (domain == null || string.Equals(match.Groups[1].Value, domain, StringComparison.OrdinalIgnoreCase));
        }

        private static bool IsOurSignature(string value, string domain)
        {
            string d = null, h = null;
            foreach (var part in value.Split(';'))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) continue;
                var tag = part.Substring(0, eq).Trim();
                var tagValue = Regex.Replace(part.Substring(eq + 1), @"\s+", string.Empty);
                if (tag == "d") d = tagValue;
                else if (tag == "h") h = tagValue;
            }
            return d != null && h != null && string.Equals(d.TrimEnd('.'), domain, StringComparison.OrdinalIgnoreCase)
                && h.Split(':').Any(f => string.Equals(f, "Resent-Message-ID", StringComparison.OrdinalIgnoreCase));
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
                    found.BodyWanted = true; // a Sieve reject (RFC 5429) is an MDN too: its disposition says "deleted"
                    break;
                case "feedback-report": // RFC 5965 abuse report
                    found.Add("FeedbackReport", "RFC 5965", detail, 0.95, EvidenceIndication.AutoGenerated);
                    break;
                default:
                    found.Add("MultipartReport", "RFC 6522", detail, 0.6, EvidenceIndication.AutoGenerated);
                    break;
            }
        }

        // Subjects of delivery reports that say the delivery failed (and not that it is delayed or succeeded): such a
        // report is a bounce without reading its body, which keeps most bounces header-only.
        private static readonly Regex FailureSubject = new Regex(@"undeliver|fail|could not|couldn't|cannot|can't|unable|returned|not delivered|non[- ]?deliver|rejected|refused|blocked|error|unzustellbar|nicht zustellbar|fehlgeschlagen|non remis|echec|non recapitabile|onbestelbaar|no se puede entregar|nao entregue|niedostarczalne|nedorucitelne|olevererbar|недостав|エラー|配信できません", Options, RegexTimeout);
        private static readonly Regex NotFailureSubject = new Regex(@"\b(delay|delayed|warning|retry|retried|retrying|success|successful|successfully|delivered|relayed|expanded|receipt|verzögert|verzogert|retard|retardé|ritardo|vertraagd|demorado|opóźni)\b", Options, RegexTimeout);

        // The generic subjects of reports of any kind (Exim's success DSN says "Delivery Status Notification").
        private static readonly Regex GenericReportSubject = new Regex(@"delivery status notification|delivery notification|delivery report|mail delivery status|delivery status|return receipt|delivery receipt", Options, RegexTimeout);

        // A delivery report can say delivered or delayed as well as failed: then its Action decides, which needs the body.
        // The body is skipped when the subject says failure, and when the mail system itself (MAILER-DAEMON, postmaster)
        // sent it under a subject that speaks neither of delay, success nor reports in general: a failure, as far as the
        // headers can tell, kept header-only because most bounces look like that.
        private static void WantReportAction(HeaderIndex headers, Findings found)
        {
            if (!found.Any(f => f.Evidence.Rule == "DeliveryStatusReport"))
                return;
            var subject = First(headers, "Subject");
            if (SaysFailure(subject))
                return;
            var other = subject != null && (SafeMatch(NotFailureSubject, subject) || SafeMatch(GenericReportSubject, subject));
            var mailSystem = found.Any(f => f.Evidence.Rule == "MailerDaemonSender" || f.Evidence.Rule == "PostmasterSender"
                || f.Evidence.Rule == "ExchangeSystemSender" || f.Evidence.Rule == "DeliverySystemName");
            if (other || !mailSystem)
                found.BodyWanted = true;
        }

        private static bool SaysFailure(string subject) =>
            subject != null && SafeMatch(FailureSubject, subject) && !SafeMatch(NotFailureSubject, subject);

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

        // RFC 2369/2919: list headers say a list distributed the message, not that a machine wrote it.
        private static bool HasListHeaders(HeaderIndex headers) =>
            First(headers, "List-Id") != null || First(headers, "List-Post") != null || First(headers, "List-Unsubscribe") != null;

        // RFC 3834 §3.1.8 / RFC 2076: Precedence is non-standard. auto_reply is set by responders. bulk and junk are set by
        // vacation(1) (its man-page template), Pigeonhole Sieve, mailbot and the procmailex(5) recipe, and also by
        // mailing-list software that people write through (Zammad and Mailman filter those people). So: with list
        // headers they are shown but not counted; without them they are weak evidence that needs a second signal.
        private static void Precedence(HeaderIndex headers, Findings found, bool list)
        {
            var value = First(headers, "Precedence");
            if (value == null)
                return;
            var token = Token(value);
            var detail = $"Precedence: {value.Trim()}";
            if (token == "auto_reply" || token == "auto-reply")
                found.Add("PrecedenceAutoReply", "RFC 3834 §3.1.8", detail, 0.9, EvidenceIndication.AutoReply);
            else if (list)
                found.Note("PrecedenceNotCounted", "RFC 2076", detail + " with mailing-list headers (people write through lists)");
            else if (token == "junk")
                found.Add("PrecedenceJunk", "vendor: vacation(1), procmailex(5), mailbot", detail + " without mailing-list headers", 0.5, EvidenceIndication.AutoGenerated);
            else if (token == "bulk")
                found.Add("PrecedenceBulkWithoutList", "vendor: vacation(1), Pigeonhole Sieve", detail + " without mailing-list headers", 0.45, EvidenceIndication.AutoGenerated);
            else
                found.Note("PrecedenceNotCounted", "RFC 2076", detail + " (list software, people write through it)");
        }

        // procmail/vacation loop marker (procmailex(5) puts the user's own address in it); mailing lists and ticket systems
        // add it too, so weak, and not counted on list mail.
        private static void XLoop(HeaderIndex headers, Findings found, bool list)
        {
            var value = First(headers, "X-Loop");
            if (value == null || Negative.IsMatch(value))
                return;
            var detail = $"X-Loop: {value.Trim()}";
            if (list)
            {
                found.Note("XLoopNotCounted", "vendor: list software", detail + " with mailing-list headers");
                return;
            }
            // The responder's own address in X-Loop (the procmail recipe) says a little more than a domain or a list name.
            var from = First(headers, "From");
            var own = from != null && InternetAddressList.TryParse(from, out var addresses) && addresses.Mailboxes.FirstOrDefault() is MailboxAddress sender
                && !string.IsNullOrEmpty(sender.Address) && value.IndexOf(sender.Address, StringComparison.OrdinalIgnoreCase) >= 0;
            found.Add("XLoopHeader", "vendor: procmail, ticket systems", detail + (own ? " (the sender's own address)" : string.Empty),
                own ? 0.35 : 0.2, EvidenceIndication.AutoGenerated);
        }

        private static void ListHeaders(Findings found, bool list)
        {
            if (list)
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
    }
}

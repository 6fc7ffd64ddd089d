using System;
using System.Collections.Generic;
using System.Linq;
using ReplyAdmin.Engine.Classification.Rules;
using MimeKit;

namespace ReplyAdmin.Engine.Classification
{
    /// <summary>
    /// Classifies replies as <see cref="ReplyClass.Human"/>, <see cref="ReplyClass.AutoReply"/>, <see cref="ReplyClass.Bounce"/>
    /// or <see cref="ReplyClass.Loop"/>, with the rule that decided and every piece of evidence seen.
    /// </summary>
    /// <remarks>
    /// <para>The rules live in the <c>Rules/</c> folder (header, subject and body rules, tables of vendor phrases), each naming its RFC or vendor. Headers are read
    /// first; the message body is parsed (through the <c>loadMessage</c> callback) only when the headers do not decide:
    /// when they carry some automatic evidence that is not enough, or say "automatic" without saying bounce or auto-reply,
    /// or carry no evidence at all but leave room for a bounce that only its body reveals.</para>
    /// <para>Doubt falls to <see cref="ReplyClass.Human"/>: the Exclude setting drops auto-generated messages, and dropping a
    /// real customer's reply is the worst mistake. A message is auto-generated only when its combined evidence reaches
    /// <see cref="DecisionThreshold"/>. The classifier is stateless and thread-safe.</para>
    /// </remarks>
    public sealed class ReplyClassifier : IReplyClassifier
    {
        /// <summary>Combined automatic evidence (0 to 1) from which a message counts as auto-generated.</summary>
        public const double DecisionThreshold = 0.70;

        /// <summary>Confidence given to a verdict that could not be reached properly (malformed input): Human, but unsure.</summary>
        public const double UncertainConfidence = 0.5;

        /// <summary>Creates a classifier with the default behaviour: the body is read when the headers carry automatic evidence that does not decide, never when they carry none (<see cref="ReadBodyWithoutHeaderEvidence"/> is false).</summary>
        public ReplyClassifier()
            : this(null)
        {
        }

        /// <summary>Creates a classifier that also recognises the forwards of <paramref name="relay"/> coming back (a loop).</summary>
        /// <param name="relay">The relay's identity; null for none.</param>
        public ReplyClassifier(RelayIdentity relay)
        {
            Relay = relay ?? RelayIdentity.None;
        }

        /// <summary>The relay whose forwards count as our own when they come back (<see cref="ReplyClass.Loop"/>).</summary>
        public RelayIdentity Relay { get; }

        /// <summary>
        /// False (the default): a message whose headers carry no automatic evidence at all is classified from its headers
        /// alone (Human), which keeps classification header-only for most human replies. True also opens such messages to
        /// look for a bounce or notice that only its body reveals (an MTA that sends neither a DSN nor a recognisable sender
        /// or subject): slower, and a little more thorough on bounces. Messages whose headers carry some automatic evidence
        /// that does not decide are always opened.
        /// </summary>
        public bool ReadBodyWithoutHeaderEvidence { get; set; }

        /// <summary>Classifies a parsed message.</summary>
        /// <param name="message">The message.</param>
        /// <returns>The verdict; never throws for malformed input.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
        public ReplyClassification Classify(MimeMessage message)
        {
            if (message == null)
                throw new ArgumentNullException(nameof(message));
            return Classify(message.Headers, () => message);
        }

        /// <inheritdoc />
        /// <exception cref="ArgumentNullException"><paramref name="headers"/> is null.</exception>
        public ReplyClassification Classify(HeaderList headers, Func<MimeMessage> loadMessage)
        {
            if (headers == null)
                throw new ArgumentNullException(nameof(headers));

            var found = new Findings();
            if (headers.Count == 0)
                return Malformed("the message has no headers");
            try
            {
                ClassificationRules.ApplyHeaderRules(headers, found, Relay);
            }
            catch (Exception e)
            {
                // A rule must never take the run down; what was found so far still counts.
                found.Note("HeaderRulesFailed", "ReplyAdmin", $"header rules stopped: {e.GetType().Name}: {e.Message}");
                return Uncertain(found, false, "HeadersUnreadable");
            }

            var loop = found.FirstOrDefault(f => f.Evidence.Indicates == EvidenceIndication.Loop);
            if (loop != null)
                return Verdict(ReplyClass.Loop, AutoReplyKind.None, loop.Evidence.Rule, loop.Evidence.Weight, found, false);

            var score = Score.Of(found);
            var bodyRead = false;
            var bodyUnreadable = false;
            var bodyWanted = NeedsBody(score, found);
            if (loadMessage != null && bodyWanted)
            {
                MimeMessage message = null;
                try
                {
                    message = loadMessage();
                }
                catch (Exception e)
                {
                    found.Note("BodyUnreadable", "ReplyAdmin", $"the message body could not be parsed ({e.GetType().Name}: {e.Message}); decided on headers");
                    bodyUnreadable = true;
                }
                if (message != null)
                {
                    bodyRead = true;
                    try
                    {
                        ClassificationRules.ApplyBodyRules(message, found);
                    }
                    catch (Exception e)
                    {
                        found.Note("BodyRulesFailed", "ReplyAdmin", $"body rules stopped: {e.GetType().Name}: {e.Message}; decided on what was found");
                    }
                    score = Score.Of(found);
                }
            }
            var verdict = Decide(score, found, bodyRead);
            if (bodyUnreadable && verdict.Confidence > 0.6)
                verdict = Verdict(verdict.Class, verdict.Kind, verdict.Rule, 0.6, found, bodyRead); // decided without the body it wanted
            if (loadMessage == null && bodyWanted)
                verdict = new ReplyClassification(verdict.Class, verdict.Kind, verdict.Rule, verdict.Confidence, verdict.Evidence, false, bodyWanted: true);
            return verdict;
        }

        // The body is read when the headers leave the decision open.
        /// <summary>
        /// The verdict for a message that could not be parsed at all: Human (so the Exclude setting never drops it) with
        /// <see cref="UncertainConfidence"/>, rule <c>MessageMalformed</c>, and the reason as evidence.
        /// </summary>
        /// <param name="reason">Why the message could not be parsed.</param>
        /// <returns>The verdict.</returns>
        public static ReplyClassification Malformed(string reason)
        {
            var found = new Findings();
            found.Note("MessageMalformed", "ReplyAdmin", (reason ?? "unparsable message") + "; kept as Human so it is not filtered");
            return Uncertain(found, false, "MessageMalformed");
        }

        private bool NeedsBody(Score score, Findings found)
        {
            if (found.BodyWanted)
                return true; // a delivery or disposition report: its Action or disposition says which kind it is
            if (score.Effective >= DecisionThreshold)
                return score.Bounce == 0 && score.Reply == 0; // automatic, but which kind? the structure says
            if (score.Human > 0 && score.Auto == 0)
                return false; // only evidence for a person (Auto-Submitted: no, a forward)
            return score.Auto > 0 || ReadBodyWithoutHeaderEvidence;
        }

        private static ReplyClassification Decide(Score score, Findings found, bool bodyRead)
        {
            // A delivery report's Action (failed, delayed, delivered) or a reject notice's disposition decides by itself:
            // a real failure stays a bounce even when it carries Auto-Submitted: auto-replied or out-of-office words.
            if (found.Decisive != null && score.Human == 0)
            {
                var decisive = found.Decisive.Evidence;
                var confidence = Math.Max(score.Effective, decisive.Weight);
                return decisive.Indicates == EvidenceIndication.Bounce
                    ? Verdict(ReplyClass.Bounce, decisive.Kind == AutoReplyKind.DelayWarning ? AutoReplyKind.DelayWarning : AutoReplyKind.None, decisive.Rule, confidence, found, bodyRead)
                    : Verdict(ReplyClass.AutoReply, decisive.Kind, decisive.Rule, confidence, found, bodyRead);
            }

            if (score.Effective < DecisionThreshold)
            {
                string rule;
                var human = Strongest(found, EvidenceIndication.Human);
                if (human != null)
                    rule = human.Rule;
                else if (score.Auto > 0)
                    rule = "InsufficientAutomaticEvidence";
                else
                    rule = "NoAutomaticEvidence";
                var confidence = Math.Max(UncertainConfidence, Math.Min(0.95, 1 - score.Effective));
                if (!bodyRead && score.Auto > 0)
                    confidence = Math.Min(confidence, 0.8);
                return Verdict(ReplyClass.Human, AutoReplyKind.None, rule, confidence, found, bodyRead);
            }

            if (score.Bounce > score.Reply)
            {
                var rule = Strongest(found, EvidenceIndication.Bounce);
                return Verdict(ReplyClass.Bounce, AutoReplyKind.None, rule.Rule, score.Effective, found, bodyRead);
            }

            // The rule: the strongest automatic evidence. The kind: what the content says (subject, text) before what
            // a marker header hints (a Sieve "vacation" is also used for auto-acknowledgements).
            var reply = found.Select(f => f.Evidence)
                .Where(e => e.Indicates == EvidenceIndication.AutoReply || e.Indicates == EvidenceIndication.AutoGenerated)
                .OrderByDescending(e => e.Weight)
                .First();
            var kinds = found
                .Where(f => f.Evidence.Kind != AutoReplyKind.None && f.Evidence.Kind != AutoReplyKind.Other && f.Evidence.Weight > 0
                    && (f.Evidence.Indicates == EvidenceIndication.AutoReply || f.Evidence.Indicates == EvidenceIndication.AutoGenerated))
                .OrderByDescending(f => f.Layer == EvidenceLayer.Text || f.Evidence.Rule.EndsWith("Subject", StringComparison.Ordinal))
                .ThenByDescending(f => f.Evidence.Weight)
                .Select(f => f.Evidence.Kind)
                .ToList();
            var kind = kinds.Count > 0 ? kinds[0] : AutoReplyKind.Other;
            return Verdict(ReplyClass.AutoReply, kind, reply.Rule, score.Effective, found, bodyRead);
        }

        private static ClassificationEvidence Strongest(Findings found, EvidenceIndication indicates) =>
            found.Select(f => f.Evidence).Where(e => e.Indicates == indicates).OrderByDescending(e => e.Weight).FirstOrDefault();

        private static ReplyClassification Uncertain(Findings found, bool bodyRead, string rule) =>
            Verdict(ReplyClass.Human, AutoReplyKind.None, rule, UncertainConfidence, found, bodyRead);

        private static ReplyClassification Verdict(ReplyClass @class, AutoReplyKind kind, string rule, double confidence, Findings found, bool bodyRead)
        {
            var evidence = found
                .Select((f, i) => (f.Evidence, i))
                .OrderByDescending(x => x.Evidence.Indicates == EvidenceIndication.Note ? -1 : x.Evidence.Weight)
                .ThenBy(x => x.i)
                .Select(x => x.Evidence)
                .ToList();
            return new ReplyClassification(@class, kind, rule, Math.Round(confidence, 2), evidence, bodyRead);
        }

        /// <summary>The combined evidence of one message.</summary>
        private struct Score
        {
            /// <summary>All automatic evidence combined (headers and structure as independent evidence; text: the strongest only).</summary>
            public double Auto;
            /// <summary>Evidence for a person.</summary>
            public double Human;
            /// <summary>Automatic evidence, lowered by the evidence for a person.</summary>
            public double Effective;
            /// <summary>Evidence specific to bounces.</summary>
            public double Bounce;
            /// <summary>Evidence specific to auto-replies.</summary>
            public double Reply;

            public static Score Of(IEnumerable<Finding> found)
            {
                var list = found.Where(f => f.Evidence.Weight > 0).ToList();
                bool IsAuto(Finding f) => f.Evidence.Indicates == EvidenceIndication.AutoGenerated
                    || f.Evidence.Indicates == EvidenceIndication.AutoReply || f.Evidence.Indicates == EvidenceIndication.Bounce;
                var strong = Combine(list.Where(f => IsAuto(f) && f.Layer != EvidenceLayer.Text));
                var text = list.Where(f => IsAuto(f) && f.Layer == EvidenceLayer.Text).Select(f => f.Evidence.Weight).DefaultIfEmpty(0).Max();
                var auto = 1 - (1 - strong) * (1 - text);
                var human = Combine(list.Where(f => f.Evidence.Indicates == EvidenceIndication.Human));
                return new Score
                {
                    Auto = auto,
                    Human = human,
                    Effective = auto * (1 - human),
                    Bounce = CombineClass(list, EvidenceIndication.Bounce),
                    Reply = CombineClass(list, EvidenceIndication.AutoReply),
                };
            }

            private static double CombineClass(List<Finding> list, EvidenceIndication indicates)
            {
                var strong = Combine(list.Where(f => f.Evidence.Indicates == indicates && f.Layer != EvidenceLayer.Text));
                var text = list.Where(f => f.Evidence.Indicates == indicates && f.Layer == EvidenceLayer.Text).Select(f => f.Evidence.Weight).DefaultIfEmpty(0).Max();
                return 1 - (1 - strong) * (1 - text);
            }

            private static double Combine(IEnumerable<Finding> findings) =>
                1 - findings.Aggregate(1.0, (rest, f) => rest * (1 - Math.Min(1, Math.Max(0, f.Evidence.Weight))));
        }
    }
}

using System.Collections.Generic;

namespace ReplyAdmin.Engine.Classification.Rules
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

        /// <summary>
        /// A finding that decides the class and kind by itself whatever else was seen: a delivery status report's
        /// <c>Action</c> (failed, delayed, delivered) or a Sieve reject notice. Null when none.
        /// </summary>
        public Finding Decisive { get; set; }

        /// <summary>True when a header rule asks for the body although the headers decide that the message is automatic
        /// (a delivery status report whose subject does not say failure: only its Action says which kind it is).</summary>
        public bool BodyWanted { get; set; }

        private static string Shorten(string s)
        {
            s = (s ?? string.Empty).Replace('\r', ' ').Replace('\n', ' ').Replace('\t', ' ');
            return s.Length > 160 ? s.Substring(0, 157) + "..." : s;
        }
    }

}

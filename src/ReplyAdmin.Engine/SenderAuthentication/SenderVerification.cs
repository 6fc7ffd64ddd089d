using System.Collections.Generic;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>
    /// What the verification of one reply's sender found: the DKIM, ARC and DMARC verdicts (RFC 8601 result words),
    /// the signing domain, the From domain's policy and whether an authenticated identifier aligns with From. Kept in the
    /// journal and on the result; holds no secret.
    /// </summary>
    public sealed class SenderVerification
    {
        /// <summary>The domain of the From address (lower case); null when From has no single address.</summary>
        public string FromDomain { get; set; }

        /// <summary>pass (a signature verified), fail, permerror (unreadable signature or key), temperror (the key lookup failed) or none.</summary>
        public string Dkim { get; set; } = "none";

        /// <summary>The d= of the verified signature (the aligned one where there is one); else of the first signature; null without one.</summary>
        public string DkimDomain { get; set; }

        /// <summary>The ARC chain: pass, fail, temperror or none.</summary>
        public string Arc { get; set; } = "none";

        /// <summary>
        /// DMARC as ReplyAdmin judges it: pass (an aligned DKIM pass, or our MTA's aligned result), fail (a policy is published
        /// and nothing aligned passed: a signature in the From domain's name failed, or our MTA's verdict shows no aligned pass),
        /// unknown (a policy, but no signature of the From domain and no verdict of our MTA: SPF cannot be judged here),
        /// none (no policy), temperror (a lookup failed, so it cannot tell).
        /// </summary>
        public string Dmarc { get; set; } = "none";

        /// <summary>The policy that applies to the From domain: none, quarantine, reject; null without a record.</summary>
        public string Policy { get; set; }

        /// <summary>Where the policy was found (the From domain or its organizational domain).</summary>
        public string PolicyDomain { get; set; }

        /// <summary>True when the DMARC policy lookup failed (timeout, server failure): the policy is unknown, even where our MTA's verdict passed.</summary>
        public bool PolicyLookupFailed { get; set; }

        /// <summary>True when a DKIM signature verified by ReplyAdmin aligns with From: it survives an unchanged forward.</summary>
        public bool Aligned { get; set; }

        /// <summary>Our MTA's trusted Authentication-Results, shortened (e.g. "mx.example.net: dkim=pass dmarc=pass"); null when none is trusted.</summary>
        public string MtaResults { get; set; }

        /// <summary>
        /// True when the From domain asks for reject or quarantine and nothing aligned passed: the reply is marked
        /// <c>$Phishing</c>, stored and not forwarded (unless its list forwards unauthenticated replies).
        /// </summary>
        public bool Spoofed { get; set; }

        /// <summary>One line: why the verdicts are what they are.</summary>
        public string Reason { get; set; }

        /// <summary>
        /// The verdicts as RFC 8601 method results without an authserv-id (<c>dkim=pass header.d=a.example; arc=pass;
        /// dmarc=pass header.from=a.example</c>): what the relay seals into ARC-Authentication-Results, under its own id.
        /// arc= only for a chain that was there to judge (pass or fail); DMARC "unknown" is written as none.
        /// </summary>
        public string ToMethodResults()
        {
            var parts = new List<string> { "dkim=" + Dkim + (DkimDomain != null ? " header.d=" + DkimDomain : "") };
            if (Arc == "pass" || Arc == "fail") parts.Add("arc=" + Arc);
            parts.Add("dmarc=" + (Dmarc == "unknown" ? "none" : Dmarc) + (FromDomain != null ? " header.from=" + FromDomain : ""));
            return string.Join("; ", parts);
        }

        /// <inheritdoc />
        public override string ToString() =>
            $"dkim={Dkim}{(DkimDomain != null ? " (d=" + DkimDomain + ")" : "")} arc={Arc} dmarc={Dmarc}{(Policy != null ? " (p=" + Policy + " at " + PolicyDomain + ")" : "")}" +
            $" aligned={(Aligned ? "yes" : "no")}{(Reason != null ? ": " + Reason : "")}";
    }
}

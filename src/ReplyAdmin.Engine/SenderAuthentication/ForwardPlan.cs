using System;
using System.Collections.Generic;
using System.Linq;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>How a list forwards replies so that the forward address's provider accepts them (DMARC).</summary>
    public enum ForwardMode
    {
        /// <summary>
        /// Unchanged when an aligned DKIM signature verifies (it survives the forward); else From rewritten where the sender's
        /// domain publishes p=reject or p=quarantine or the lookup failed; unchanged for p=none or no policy.
        /// </summary>
        Auto,
        /// <summary>Always rewrite From to "Name via list" at the relay's address; Reply-To the customer, X-Original-From kept.</summary>
        Rewrite,
        /// <summary>Always send a new message from the relay's address with the reply attached unchanged (message/rfc822).</summary>
        Wrap,
        /// <summary>Always forward unchanged (Resent-* only): for sites that accept the risk of rejection.</summary>
        Unchanged,
    }

    /// <summary>The forward as decided for one reply: the mode actually used and why.</summary>
    public sealed class ForwardPlan
    {
        /// <summary>The mode used: <see cref="ForwardMode.Unchanged"/>, <see cref="ForwardMode.Rewrite"/> or <see cref="ForwardMode.Wrap"/>.</summary>
        public ForwardMode Mode { get; set; }

        /// <summary>The configured mode it came from.</summary>
        public ForwardMode Configured { get; set; }

        /// <summary>Why, in a few words ("customer.test publishes p=reject").</summary>
        public string Reason { get; set; }

        /// <summary>The list named in "Name via list".</summary>
        public string ListName { get; set; }

        /// <summary>The relay's address (its envelope sender), the new From of a rewritten or wrapped forward.</summary>
        public string RelayAddress { get; set; }

        /// <summary>The verification it was decided from; null when none was made.</summary>
        public SenderVerification Verification { get; set; }

        /// <summary>
        /// The most careful mode among the forwarding lists (a reply to several lists is forwarded once): Wrap, then Rewrite,
        /// then Auto, then Unchanged.
        /// </summary>
        public static ForwardMode ModeOf(IEnumerable<ReplyList> forwardingLists)
        {
            var modes = forwardingLists.Select(l => l.ForwardMode).ToList();
            foreach (var mode in new[] { ForwardMode.Wrap, ForwardMode.Rewrite, ForwardMode.Auto })
                if (modes.Contains(mode)) return mode;
            return modes.Count > 0 ? ForwardMode.Unchanged : ForwardMode.Auto;
        }

        /// <summary>Decides the mode for one reply. Pure.</summary>
        /// <param name="configured">The list's mode.</param>
        /// <param name="verification">What the verification found; null when none was made (forwarded as configured, Auto as unchanged).</param>
        /// <param name="listName">The list named in the new From.</param>
        /// <param name="relayAddress">The relay's envelope sender; without it From cannot be rewritten (the forward goes unchanged).</param>
        public static ForwardPlan Decide(ForwardMode configured, SenderVerification verification, string listName, string relayAddress)
        {
            var plan = new ForwardPlan { Configured = configured, ListName = listName, RelayAddress = relayAddress, Verification = verification };
            var v = verification;
            switch (configured)
            {
                case ForwardMode.Unchanged:
                    plan.Mode = ForwardMode.Unchanged; plan.Reason = "the list forwards unchanged"; break;
                case ForwardMode.Rewrite:
                    plan.Mode = ForwardMode.Rewrite; plan.Reason = "the list always rewrites From"; break;
                case ForwardMode.Wrap:
                    plan.Mode = ForwardMode.Wrap; plan.Reason = "the list always wraps"; break;
                default:
                    if (v == null) { plan.Mode = ForwardMode.Unchanged; plan.Reason = "not verified"; }
                    else if (v.Aligned) { plan.Mode = ForwardMode.Unchanged; plan.Reason = $"aligned DKIM signature of {v.DkimDomain}"; }
                    else if (v.Dmarc == "temperror" || v.PolicyLookupFailed) { plan.Mode = ForwardMode.Rewrite; plan.Reason = $"the DMARC lookup of {v.FromDomain} failed (temperror)"; }
                    else if (v.Policy == "reject" || v.Policy == "quarantine") { plan.Mode = ForwardMode.Rewrite; plan.Reason = $"{v.PolicyDomain} publishes p={v.Policy}"; }
                    else if (v.FromDomain == null) { plan.Mode = ForwardMode.Unchanged; plan.Reason = v.Reason; }
                    else { plan.Mode = ForwardMode.Unchanged; plan.Reason = v.Policy != null ? $"{v.PolicyDomain} publishes p={v.Policy}" : $"{v.FromDomain} publishes no DMARC policy"; }
                    break;
            }
            if (plan.Mode != ForwardMode.Unchanged && string.IsNullOrWhiteSpace(relayAddress))
            {
                plan.Reason = $"{plan.Reason}, but From cannot be rewritten without the relay's envelope sender (Set-ReplySmtpRelay -EnvelopeSender)";
                plan.Mode = ForwardMode.Unchanged;
            }
            return plan;
        }

        /// <summary>The result's action line: "Forwarded (From rewritten: customer.test publishes p=reject) to a@b".</summary>
        public static string Describe(ForwardPlan plan, IEnumerable<string> recipients)
        {
            var to = " to " + string.Join(", ", recipients);
            if (plan == null) return "Forwarded" + to;
            var how = plan.Mode == ForwardMode.Rewrite ? "From rewritten" : plan.Mode == ForwardMode.Wrap ? "wrapped" : "unchanged";
            return $"Forwarded ({how}: {plan.Reason}){to}";
        }

        /// <inheritdoc />
        public override string ToString() => $"{Mode} ({Reason})";
    }
}

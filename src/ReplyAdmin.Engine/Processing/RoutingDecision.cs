using System.Collections.Generic;
using System.Linq;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>What to do with one message, decided from its lists, its class and its size. Pure: no I/O.</summary>
    public sealed class RoutingDecision
    {
        private RoutingDecision(ReplyDisposition disposition, IReadOnlyList<ReplyList> lists, IReadOnlyList<string> keywords,
            IReadOnlyList<string> forwardTo, string reason, bool holdAtSource = false)
        {
            Disposition = disposition;
            Lists = lists;
            Keywords = keywords;
            ForwardTo = forwardTo;
            Reason = reason;
            HoldAtSource = holdAtSource;
        }

        /// <summary>What the settings call for.</summary>
        public ReplyDisposition Disposition { get; }

        /// <summary>The lists the message is stored for (all lists it was sent to, for Exclude and Reject).</summary>
        public IReadOnlyList<ReplyList> Lists { get; }

        /// <summary>Keywords of the stored copy; for an excluded message, those set on it at the source.</summary>
        public IReadOnlyList<string> Keywords { get; }

        /// <summary>Where to forward; empty when not forwarding.</summary>
        public IReadOnlyList<string> ForwardTo { get; }

        /// <summary>Why, for Exclude and Reject.</summary>
        public string Reason { get; }

        /// <summary>Stored, but left at the source (not acknowledged) so that a later run can still forward it.</summary>
        public bool HoldAtSource { get; }

        /// <summary>True when a notice goes to the reply folder in place of the message.</summary>
        public bool StoresNotice => Disposition == ReplyDisposition.Reject || Disposition == ReplyDisposition.Quarantine;

        /// <summary>True when a copy goes to the reply folder.</summary>
        public bool Stores => Disposition == ReplyDisposition.Store || Disposition == ReplyDisposition.ForwardAndStore || Disposition == ReplyDisposition.StoreUnrouted;

        /// <summary>True for a message that cannot be read as e-mail (rejected, but its original is stored where the server takes it).</summary>
        public bool Unreadable { get; private set; }

        /// <summary>
        /// A message too large to store: rejected, with a notice for staff; the notice also goes to the forward addresses of
        /// the lists that forward, so a team that reads only its forward address learns of the reply.
        /// </summary>
        public static RoutingDecision Reject(IReadOnlyList<ReplyList> lists, string reason) =>
            new RoutingDecision(ReplyDisposition.Reject, lists, new[] { Processing.Keywords.TooLargeNotice }.Concat(lists.Select(l => Processing.Keywords.ForList(l.Name))).ToList(),
                lists.Where(l => l.Action == ReplyAction.ForwardAndStoreInImap).SelectMany(l => l.ForwardTo).Distinct(System.StringComparer.OrdinalIgnoreCase).ToList(), reason);

        /// <summary>A reply a scanner found a virus in: quarantined at the source, with a notice for staff.</summary>
        public static RoutingDecision Quarantine(IReadOnlyList<ReplyList> lists, string reason) =>
            new RoutingDecision(ReplyDisposition.Quarantine, lists, new[] { Processing.Keywords.QuarantineNotice }.Concat(lists.Select(l => Processing.Keywords.ForList(l.Name))).ToList(),
                new string[0], reason);

        /// <summary>
        /// This decision after a clean or suspicious scan: the scan's keywords added (<c>$Junk</c>, <c>$Phishing</c>), the forward
        /// kept only when <paramref name="forward"/>, and with <paramref name="holdAtSource"/> the message left at the source.
        /// </summary>
        public RoutingDecision AfterScan(IReadOnlyList<string> keywords, bool forward, bool holdAtSource, string reason) =>
            new RoutingDecision(!forward && Disposition == ReplyDisposition.ForwardAndStore ? ReplyDisposition.Store : Disposition, Lists,
                Keywords.Concat(keywords).Distinct().ToList(), forward ? ForwardTo : new string[0], reason ?? Reason, holdAtSource);

        /// <summary>
        /// A message whose headers cannot be parsed: rejected at the source; the reply folder gets the original as it came
        /// where the server accepts it (staff can judge it), else a notice; both carry <see cref="Processing.Keywords.Unreadable"/>.
        /// </summary>
        public static RoutingDecision RejectUnreadable(IReadOnlyList<ReplyList> lists, string reason) =>
            new RoutingDecision(ReplyDisposition.Reject, lists, new[] { Processing.Keywords.Unreadable }.Concat(lists.Select(l => Processing.Keywords.ForList(l.Name))).ToList(),
                new string[0], reason) { Unreadable = true };

        // The journal says which evidence showed the message to be our own forward, so staff can see why it was not forwarded.
        private static string LoopReason(ReplyClassification classification) =>
            classification.Class != ReplyClass.Loop ? null
                : "our own forward came back (" + string.Join("; ", classification.Evidence.Where(e => e.Indicates == EvidenceIndication.Loop).Select(e => $"{e.Rule}: {e.Detail}"))
                  + "): stored, not forwarded again";

        /// <summary>Decides for a message of acceptable size.</summary>
        /// <param name="lists">The lists it was addressed to (may be empty).</param>
        /// <param name="classification">Its class.</param>
        public static RoutingDecision Decide(IReadOnlyList<ReplyList> lists, ReplyClassification classification)
        {
            var classKeyword = Processing.Keywords.ForClass(classification.Class);
            if (lists.Count == 0)
                return new RoutingDecision(ReplyDisposition.StoreUnrouted, lists, new[] { Processing.Keywords.Unrouted, classKeyword }, new string[0],
                    "addressed to no configured list");

            // A list that excludes auto-generated replies neither stores nor forwards them; a list that includes them does both.
            var handling = lists.Where(l => !classification.IsAutoGenerated || l.AutoReplies == AutoReplyHandling.Include).ToList();
            if (handling.Count == 0)
                // The class keyword goes on the source message, so the excluded ones can be found where they were moved.
                return new RoutingDecision(ReplyDisposition.Exclude, lists, new[] { classKeyword }, new string[0],
                    $"{classification.Class} ({classification.Rule}) excluded by the setting of {string.Join(", ", lists.Select(l => l.Name))}");

            // A message carrying our own loop guard is stored but never forwarded again.
            var forwardTo = classification.Class == ReplyClass.Loop
                ? new List<string>()
                : handling.Where(l => l.Action == ReplyAction.ForwardAndStoreInImap)
                    .SelectMany(l => l.ForwardTo).Distinct(System.StringComparer.OrdinalIgnoreCase).ToList();
            var keywords = handling.Select(l => Processing.Keywords.ForList(l.Name)).Concat(new[] { classKeyword }).ToList();
            return new RoutingDecision(forwardTo.Count > 0 ? ReplyDisposition.ForwardAndStore : ReplyDisposition.Store, handling, keywords, forwardTo, LoopReason(classification));
        }
    }
}

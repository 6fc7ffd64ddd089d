using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Scanning;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The security scan between deciding and acting (the requirement's own advice for forwarded replies): every reply that
    /// would be stored or forwarded goes through the configured scanners, and <see cref="ScanDecision"/> turns their verdicts
    /// and the lists' policies into a changed routing decision. A too-large or excluded reply is shown to no one and is not
    /// scanned.
    /// </summary>
    internal sealed class ContentScan
    {
        private readonly IReadOnlyList<IContentScanner> _scanners;
        private readonly IReadOnlyList<string> _trustedRelays;

        public ContentScan(IReadOnlyList<IContentScanner> scanners, IReadOnlyList<string> trustedRelays)
        {
            _scanners = scanners;
            _trustedRelays = trustedRelays ?? new string[0];
        }

        /// <summary>Scans the item's original bytes and applies the outcome to its decision and result.</summary>
        public async Task ApplyAsync(WorkItem item, CancellationToken cancellationToken)
        {
            var decision = item.Decision;
            if (!decision.Stores) return;
            var envelope = ScanEnvelope.FromHeaders(item.Message.Headers, decision.Lists.Select(l => l.Address), _trustedRelays, item.Message.Id);
            var verdicts = new List<ScanVerdict>();
            foreach (var scanner in _scanners)
            {
                var stream = await item.Body.OpenOriginalAsync().ConfigureAwait(false);
                stream.Position = 0;
                var verdict = await scanner.ScanAsync(stream, envelope, cancellationToken).ConfigureAwait(false);
                verdicts.Add(verdict);
                if (verdict.Kind == ScanVerdictKind.Virus) break; // a virus decides everything
            }
            var scan = ScanDecision.Decide(verdicts, PolicyOf(decision.Lists), decision.ForwardTo.Count > 0);
            item.Scan = scan;
            item.Result.Scan = verdicts.Select(v => v.Summary).ToArray();

            switch (scan.Outcome)
            {
                case ScanOutcome.Quarantine:
                    item.Decision = RoutingDecision.Quarantine(decision.Lists, scan.Reason);
                    break;
                case ScanOutcome.Reject:
                    item.Decision = RoutingDecision.Reject(decision.Lists, scan.Reason);
                    break;
                case ScanOutcome.Defer:
                    item.Result.Outcome = ReplyOutcome.Deferred;
                    item.Result.Reason = scan.Reason;
                    item.Result.Actions.Add("Left at the source: " + scan.Reason);
                    item.Done = true;
                    return;
                default:
                    // Proceed, or DeferForward: stored now, left at the source so that a later run forwards it once scanned.
                    var hold = scan.Outcome == ScanOutcome.DeferForward;
                    item.Decision = decision.AfterScan(scan.Keywords, scan.Forward, hold, scan.Keywords.Count > 0 || hold ? scan.Reason : null);
                    if (hold)
                    {
                        item.Result.Outcome = ReplyOutcome.Deferred;
                        item.Result.Actions.Add("Left at the source for the forward: " + scan.Reason);
                    }
                    else if (decision.ForwardTo.Count > 0 && !scan.Forward)
                    {
                        item.Result.Actions.Add("Not forwarded: " + scan.Reason);
                    }
                    break;
            }
            var routed = item.Decision;
            item.Result.Disposition = routed.Disposition;
            item.Result.Reason = routed.Reason;
            item.Result.ForwardedTo = routed.ForwardTo.ToArray();
        }

        // A reply to several lists follows the most careful of their policies: it waits when any list fails closed, and a
        // suspicious one is forwarded only when every forwarding list allows it.
        private static ScanPolicy PolicyOf(IReadOnlyList<ReplyList> lists)
        {
            var policies = lists.Select(l => l.ScanPolicy ?? ScanPolicy.Default).ToList();
            if (policies.Count == 0) return ScanPolicy.Default;
            var forwarding = lists.Where(l => l.Action == ReplyAction.ForwardAndStoreInImap).Select(l => l.ScanPolicy ?? ScanPolicy.Default).ToList();
            return new ScanPolicy
            {
                OnScannerFailure = policies.Any(p => p.OnScannerFailure == ScanFailureMode.FailClosed) ? ScanFailureMode.FailClosed : ScanFailureMode.FailOpen,
                ForwardSuspectedSpam = forwarding.Count > 0 && forwarding.All(p => p.ForwardSuspectedSpam),
                AddSpamHeaders = policies.Any(p => p.AddSpamHeaders),
            };
        }
    }
}

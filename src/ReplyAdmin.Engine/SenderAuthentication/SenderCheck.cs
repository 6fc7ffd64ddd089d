using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.SenderAuthentication
{
    /// <summary>
    /// The sender check between the scan and acting: verifies each reply that would be forwarded (and, when configured,
    /// each stored one), marks a spoofed one <c>$Phishing</c> and drops its forward (unless every forwarding list forwards
    /// unauthenticated replies), and decides the forward mode. A failed DNS lookup is a verdict (temperror), not a failure.
    /// </summary>
    internal sealed class SenderCheck
    {
        private readonly SenderVerifier _verifier;
        private readonly SenderAuthenticationSettings _settings;
        private readonly string _relayAddress;

        public SenderCheck(SenderAuthenticationSettings settings, string relayAddress, SenderVerifier verifier = null)
        {
            _settings = settings ?? new SenderAuthenticationSettings();
            _relayAddress = relayAddress;
            _verifier = verifier ?? new SenderVerifier(_settings);
        }

        public async Task ApplyAsync(WorkItem item, CancellationToken cancellationToken)
        {
            var decision = item.Decision;
            if (decision.StoresNotice && decision.ForwardTo.Count > 0)
            {
                // A too-large reply's notice goes to the forward addresses from the relay's address.
                item.Forward = new ForwardPlan { Mode = ForwardMode.Unchanged, RelayAddress = _relayAddress, ListName = decision.Lists.FirstOrDefault(l => l.Action == ReplyAction.ForwardAndStoreInImap)?.Name, Reason = "a notice" };
                return;
            }
            if (!decision.Stores) return;
            var forwarding = decision.ForwardTo.Count > 0;
            if (!forwarding && !_settings.VerifyStoredReplies) return;

            MimeKit.MimeMessage message;
            try { message = await item.Body.LoadAsync().ConfigureAwait(false); }
            catch (FormatException) { return; } // an unreadable reply is the store step's case
            var verification = await _verifier.VerifyAsync(message, cancellationToken).ConfigureAwait(false);
            item.Result.SenderAuthentication = verification;

            var forwardingLists = decision.Lists.Where(l => l.Action == ReplyAction.ForwardAndStoreInImap).ToList();
            if (verification.Spoofed)
            {
                var forwardAnyway = forwarding && forwardingLists.Count > 0 && forwardingLists.All(l => l.ForwardUnauthenticated);
                var why = $"sender not authenticated: {verification.Reason}";
                item.Decision = decision.AfterScan(new[] { Scanning.ScanDecision.PhishingKeyword }, forwardAnyway, decision.HoldAtSource, why);
                if (forwarding && !forwardAnyway) item.Result.Actions.Add("Not forwarded: " + why);
                item.Result.Disposition = item.Decision.Disposition;
                item.Result.Reason = item.Decision.Reason;
                item.Result.ForwardedTo = item.Decision.ForwardTo.ToArray();
            }
            if (item.Decision.ForwardTo.Count > 0)
            {
                item.Forward = ForwardPlan.Decide(ForwardPlan.ModeOf(forwardingLists), verification, forwardingLists.FirstOrDefault()?.Name, _relayAddress);
                item.Result.ForwardMode = item.Forward.Mode.ToString();
            }
        }
    }
}

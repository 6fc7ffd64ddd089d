using System;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Leases;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Shows which host holds the lease of the configured inbound source (and of each of its shards), since when, and its epoch.
    /// Reads the lease mailboxes on the source's IMAP server and changes nothing.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyLease")]
    [OutputType(typeof(LeaseStatus))]
    public sealed class GetReplyLeaseCommand : ReplyAdminCmdlet
    {
        /// <summary>Login for the source, overriding its configured credential reference.</summary>
        [Parameter]
        [Credential]
        public PSCredential SourceCredential { get; set; }

        /// <summary>Time limit of every network operation, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSeconds { get; set; } = 30;

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var configuration = LoadConfiguration();
            if (configuration.Source == null)
            {
                ThrowTerminatingError(Error(ErrorIds.ReplySourceNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"No inbound source is configured in {ResolvedConfigPath}.", ResolvedConfigPath, "Configure it with Set-ReplySource."));
                return;
            }
            var context = new SourceContext { Credentials = CredentialResolver, Credential = SourceCredential?.GetNetworkCredential(), Timeout = TimeSpan.FromSeconds(TimeoutSeconds) };
            var path = ResolvedConfigPath;
            var statuses = Invoke(token => WorkLeases.ReadAllAsync(configuration, path, context, token));
            if (statuses == null)
            {
                WriteVerbose($"The {configuration.Source.Kind} source has no lease: only one host can read a local directory.");
                return;
            }
            // One per unit: the source folder, then its shards (coordination.shards).
            foreach (var status in statuses)
                WriteObject(status);
        }
    }
}

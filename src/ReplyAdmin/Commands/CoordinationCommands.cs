using System;
using System.Management.Automation;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Leases;

namespace ReplyAdmin.Commands
{
    /// <summary>
    /// Gets how this host takes part when several hosts share one inbound mailbox: its host id, the lease time to live,
    /// the shard count and the units of work in this host's order. Defaults are filled in.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyCoordination")]
    [OutputType(typeof(CoordinationInfo))]
    public sealed class GetReplyCoordinationCommand : ReplyAdminCmdlet
    {
        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var configuration = LoadConfiguration();
            var path = ResolvedConfigPath;
            WriteObject(Invoke(() => CoordinationInfo.From(configuration, path)));
        }
    }

    /// <summary>
    /// Sets this host's identity and the lease settings for several hosts sharing one inbound mailbox:
    /// the host id, the lease time to live and the shard count.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ReplyCoordination", SupportsShouldProcess = true)]
    [OutputType(typeof(CoordinationSettings))]
    public sealed class SetReplyCoordinationCommand : SetSettingsCmdlet<CoordinationSettings>
    {
        /// <summary>This host's name in leases; an empty string goes back to the host name.</summary>
        [Parameter]
        [AllowEmptyString]
        public string HostId { get; set; }

        /// <summary>Seconds without heartbeat after which another host takes a lease over (5..3600).</summary>
        [Parameter]
        [Alias("LeaseTimeToLive")]
        public int LeaseTimeToLiveSeconds { get; set; }

        /// <summary>Shards of the IMAP source (0..64; 0: one lease on the whole source).</summary>
        [Parameter]
        public int Shards { get; set; }

        /// <inheritdoc />
        protected override string SectionName => "coordination settings";

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            if (HostId == "") HostId = null; // the default again: the host name
        }

        /// <inheritdoc />
        protected override CoordinationSettings Section(ReplyAdminConfiguration configuration) =>
            configuration.Coordination ?? (configuration.Coordination = new CoordinationSettings());
    }

    /// <summary>
    /// Writes the Sieve script that files replies into the shards of the inbound folder (Dovecot Pigeonhole, or any
    /// Sieve with fileinto and mailbox), by the rule ReplyAdmin itself uses.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ReplyShardSieveScript")]
    [OutputType(typeof(string))]
    public sealed class GetReplyShardSieveScriptCommand : ReplyAdminCmdlet
    {
        /// <summary>The shard count; by default the configured coordination.shards.</summary>
        [Parameter]
        [ValidateRange(1, LeaseOptions.MaxShards)]
        public int Shards { get; set; }

        /// <summary>The inbound folder; by default the configured source folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Folder { get; set; }

        /// <summary>The server's hierarchy separator: '.' (Dovecot's Maildir++ default) or '/'.</summary>
        [Parameter]
        [ValidateSet(".", "/")]
        public string HierarchySeparator { get; set; } = ".";

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var shards = Shards;
            var folder = Folder;
            if (shards == 0 || folder == null)
            {
                var configuration = LoadConfiguration();
                var path = ResolvedConfigPath;
                if (shards == 0) shards = Invoke(() => LeaseOptions.From(configuration.Coordination, path)).Shards;
                if (folder == null) folder = configuration.Source?.Kind == SourceKind.Imap ? configuration.Source.Folder : null;
            }
            if (shards == 0 || folder == null)
            {
                ThrowTerminatingError(Error(ErrorIds.ShardsNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    folder == null ? $"No IMAP source folder is configured in {ResolvedConfigPath}, and -Folder was not given." : $"No shards are configured in {ResolvedConfigPath}, and -Shards was not given.",
                    ResolvedConfigPath, "Configure them with Set-ReplySource -Kind Imap and Set-ReplyCoordination -Shards, or give -Folder and -Shards."));
                return;
            }
            WriteObject(ShardRule.SieveScript(folder, shards, HierarchySeparator[0]));
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Leases
{
    /// <summary>
    /// The right of one host to act on a unit of work (an inbound folder), held on the mail server itself so that any
    /// number of hosts can be configured alike. A run checks it (fencing) before every step that changes the reply folder
    /// or the source's waiting set; a host that lost it does nothing more.
    /// </summary>
    public interface IWorkLease : IDisposable
    {
        /// <summary>What this host holds: unit, epoch, since when.</summary>
        LeaseStatus Status { get; }

        /// <summary>Returns when this host still holds the lease; the caller may then act.</summary>
        /// <exception cref="ReplyAdminException"><see cref="ErrorIds.LeaseLost"/> (scope Run): another host holds it now, or it cannot be confirmed.</exception>
        Task CheckAsync(CancellationToken cancellationToken);
    }

    /// <summary>Who holds the lease of a unit of work, since when, and under which epoch.</summary>
    public sealed class LeaseStatus
    {
        /// <summary>The unit of work (the inbound folder, as the source names it).</summary>
        public string Unit { get; internal set; }

        /// <summary>The mailbox that holds the lease records on the server.</summary>
        public string LeaseMailbox { get; internal set; }

        /// <summary>Grows by one with every takeover; the highest epoch on the server owns the unit. 0 when never taken.</summary>
        public long Epoch { get; internal set; }

        /// <summary>The host id (configuration <c>coordination.hostId</c>, default the host name) of the holder.</summary>
        public string Holder { get; internal set; }

        /// <summary>When the holder took the lease (server time).</summary>
        public DateTimeOffset? Since { get; internal set; }

        /// <summary>The holder's last heartbeat (server time).</summary>
        public DateTimeOffset? LastHeartbeat { get; internal set; }

        /// <summary>The time to live: a lease without heartbeat for this long may be taken over.</summary>
        public TimeSpan TimeToLive { get; internal set; }

        /// <summary>The holder gave the lease back at the end of its run; any host may take it now.</summary>
        public bool Released { get; internal set; }

        /// <summary>No heartbeat for longer than the time to live: the next run of any host takes it over.</summary>
        public bool Expired { get; internal set; }

        /// <summary>Free (never taken, released or expired), held, or held by this host.</summary>
        public string State => Epoch == 0 ? "Free" : Released ? "Released" : Expired ? "Expired" : "Held";
    }

    /// <summary>Host identity and lease timing from the configuration, checked.</summary>
    public sealed class LeaseOptions
    {
        /// <summary>Default time to live.</summary>
        public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromSeconds(60);

        /// <summary>This host's id.</summary>
        public string HostId { get; set; } = Environment.MachineName;

        /// <summary>Tells two configurations on one host apart (a hash of the configuration path): a lease left by a dead run of this very configuration is taken over at once.</summary>
        public string Instance { get; set; } = "";

        /// <summary>A lease without heartbeat for this long may be taken over; heartbeats come every third of it.</summary>
        public TimeSpan TimeToLive { get; set; } = DefaultTimeToLive;

        /// <summary>Most shards a source may have.</summary>
        public const int MaxShards = 64;

        /// <summary>Shards of the source (sub-folders with leases of their own); 0 for one lease on the whole source.</summary>
        public int Shards { get; set; }

        /// <summary>Reads and checks the configuration's coordination settings.</summary>
        /// <exception cref="ConfigurationException">The host id, the time to live or the shard count is invalid.</exception>
        public static LeaseOptions From(Configuration.CoordinationSettings settings, string configPath)
        {
            var options = new LeaseOptions { Instance = Hash(System.IO.Path.GetFullPath(configPath ?? ".")) };
            if (!string.IsNullOrEmpty(settings?.HostId))
            {
                if (settings.HostId.Length > 64 || settings.HostId.Any(c => !(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.')))
                    throw new ConfigurationException(ErrorIds.LeaseConfigurationInvalid, "coordination.hostId", $"'{settings.HostId}' is not a host id: use up to 64 letters, digits, '-', '_' or '.'.", settings.HostId,
                        "Give each host a short unique name, e.g. its host name.");
                options.HostId = settings.HostId;
            }
            if (settings?.LeaseTimeToLiveSeconds != null)
            {
                if (settings.LeaseTimeToLiveSeconds < 5 || settings.LeaseTimeToLiveSeconds > 3600)
                    throw new ConfigurationException(ErrorIds.LeaseConfigurationInvalid, "coordination.leaseTimeToLiveSeconds", $"{settings.LeaseTimeToLiveSeconds} is outside 5..3600 seconds.", settings.LeaseTimeToLiveSeconds,
                        "Use 60 (the default) unless hosts stall for longer; a takeover waits this long.");
                options.TimeToLive = TimeSpan.FromSeconds(settings.LeaseTimeToLiveSeconds.Value);
            }
            if (settings?.Shards != null)
            {
                if (settings.Shards < 0 || settings.Shards > MaxShards)
                    throw new ConfigurationException(ErrorIds.LeaseConfigurationInvalid, "coordination.shards", $"{settings.Shards} is outside 0..{MaxShards} shards.", settings.Shards,
                        "Use about one or two shards per host (0 keeps one lease on the whole source).");
                options.Shards = settings.Shards.Value;
            }
            return options;
        }

        internal static string Hash(string text)
        {
            using (var sha = System.Security.Cryptography.SHA256.Create())
                return BitConverter.ToString(sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(text)), 0, 6).Replace("-", "").ToLowerInvariant();
        }
    }

    /// <summary>This host's part in several hosts sharing one source, as the configuration gives it (defaults filled in).</summary>
    public sealed class CoordinationInfo
    {
        /// <summary>The host id in leases.</summary>
        public string HostId { get; set; }

        /// <summary>True when the host id is the default (the host name), not configured.</summary>
        public bool HostIdIsDefault { get; set; }

        /// <summary>A lease without heartbeat for this long is taken over.</summary>
        public TimeSpan LeaseTimeToLive { get; set; }

        /// <summary>Shards of the source (0: one lease on the whole source).</summary>
        public int Shards { get; set; }

        /// <summary>The units of work (the source folder, then its shards), in this host's rotation order; empty without an IMAP source.</summary>
        public string[] Units { get; set; }

        /// <summary>Reads the configuration's coordination settings.</summary>
        /// <exception cref="ConfigurationException">They are invalid.</exception>
        public static CoordinationInfo From(Configuration.ReplyAdminConfiguration configuration, string configPath)
        {
            var options = LeaseOptions.From(configuration.Coordination, configPath);
            var source = configuration.Source;
            return new CoordinationInfo
            {
                HostId = options.HostId,
                HostIdIsDefault = string.IsNullOrEmpty(configuration.Coordination?.HostId),
                LeaseTimeToLive = options.TimeToLive,
                Shards = options.Shards,
                Units = source == null || source.Kind != Configuration.SourceKind.Imap ? new string[0]
                    : ShardRule.Rotation(ShardRule.Units(source.Folder, options.Shards), options.HostId).ToArray(),
            };
        }
    }
}

using System;
using System.Collections.Generic;
using ReplyAdmin.Engine.Classification;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>What a message's list settings and class call for.</summary>
    public enum ReplyDisposition
    {
        /// <summary>Stored in the reply folder.</summary>
        Store,
        /// <summary>Forwarded and stored.</summary>
        ForwardAndStore,
        /// <summary>Addressed to no configured list: stored, marked unrouted.</summary>
        StoreUnrouted,
        /// <summary>Auto-generated and excluded by every list it was sent to: only recorded (and archived if configured).</summary>
        Exclude,
        /// <summary>Over the size limit (or, failing closed, too large to scan): moved to the source's Rejected folder; a notice is stored for staff.</summary>
        Reject,
        /// <summary>A scanner found a virus: moved to the source's Quarantine folder; a notice is stored for staff; nothing forwarded.</summary>
        Quarantine,
    }

    /// <summary>How handling a message ended.</summary>
    public enum ReplyOutcome
    {
        /// <summary>Every action succeeded and the message was acknowledged at the source.</summary>
        Done,
        /// <summary>An action failed; the message stays at the source and a later run retries it.</summary>
        Failed,
        /// <summary>-WhatIf: decided and reported, nothing changed.</summary>
        WhatIf,
        /// <summary>Left at the source on purpose (a scanner could not be asked); a later run handles it. Not a failure.</summary>
        Deferred,
        /// <summary>
        /// The message left the source while this run handled it (another host or a person moved it): this run did not
        /// acknowledge it, stored no notice for it, and does nothing more with it.
        /// </summary>
        Gone,
    }

    /// <summary>The handling of one message: what was decided, what was done, how it ended. Holds no secret.</summary>
    public sealed class ProcessingResult
    {
        /// <summary>Identifier of the run that handled it.</summary>
        public string RunId { get; set; }
        /// <summary>When handling ended (UTC).</summary>
        public DateTimeOffset Time { get; set; }
        /// <summary>The source's identity (UID or file name).</summary>
        public string SourceId { get; set; }
        /// <summary>Message-ID header, if any.</summary>
        public string MessageId { get; set; }
        /// <summary>From header.</summary>
        public string From { get; set; }
        /// <summary>Subject header.</summary>
        public string Subject { get; set; }
        /// <summary>Date header.</summary>
        public DateTimeOffset? Date { get; set; }
        /// <summary>Size in bytes.</summary>
        public long Size { get; set; }
        /// <summary>Names of the lists it was addressed to.</summary>
        public string[] Lists { get; set; } = new string[0];
        /// <summary>The header field that decided the lists (Delivered-To, X-Original-To, Envelope-To, To or Cc); null when none matched.</summary>
        public string ListHeader { get; set; }
        /// <summary>Classification.</summary>
        public ReplyClass Class { get; set; }
        /// <summary>Auto-reply kind.</summary>
        public AutoReplyKind Kind { get; set; }
        /// <summary>The rule that decided the classification.</summary>
        public string Rule { get; set; }
        /// <summary>What the settings call for.</summary>
        public ReplyDisposition Disposition { get; set; }
        /// <summary>What was done, in order (e.g. "Stored as UID 12").</summary>
        public List<string> Actions { get; set; } = new List<string>();
        /// <summary>How it ended.</summary>
        public ReplyOutcome Outcome { get; set; }
        /// <summary>UID in the reply folder, when stored.</summary>
        public uint? DestinationUid { get; set; }
        /// <summary>Addresses it was forwarded to.</summary>
        public string[] ForwardedTo { get; set; } = new string[0];
        /// <summary>Where it went at the source.</summary>
        public string AcknowledgedTo { get; set; }
        /// <summary>Why it failed, was rejected, quarantined or deferred.</summary>
        public string Reason { get; set; }
        /// <summary>The content scanners' verdicts, one line each (scanner, verdict, score, symbols); empty when not scanned.</summary>
        public string[] Scan { get; set; } = new string[0];
        /// <summary>Error id of a failure.</summary>
        public string ErrorId { get; set; }
        /// <summary>What the verification of the sender found (DKIM, ARC, DMARC); null when the reply was not verified.</summary>
        public SenderAuthentication.SenderVerification SenderAuthentication { get; set; }
        /// <summary>How the reply was (or would be) forwarded: Unchanged, Rewrite or Wrap; null when not forwarded.</summary>
        public string ForwardMode { get; set; }

        internal ProcessingResult Copy()
        {
            var copy = (ProcessingResult)MemberwiseClone();
            copy.Actions = new List<string>(Actions);
            return copy;
        }
        /// <summary>
        /// True on the journal line written just before the message is moved at the source (the run's final line for it
        /// follows, and replaces it when read); null otherwise.
        /// </summary>
        public bool? Pending { get; set; }
        /// <summary>The failure, for the error record (not serialized to the journal).</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public ReplyAdminException Error { get; set; }
    }

    /// <summary>Totals of a run.</summary>
    public sealed class ProcessingSummary
    {
        /// <summary>Identifier of the run.</summary>
        public string RunId { get; set; }
        /// <summary>The source read.</summary>
        public string Source { get; set; }
        /// <summary>The reply folder.</summary>
        public string ReplyFolder { get; set; }
        /// <summary>Start (UTC).</summary>
        public DateTimeOffset Started { get; set; }
        /// <summary>Duration.</summary>
        public TimeSpan Duration { get; set; }
        /// <summary>Messages seen.</summary>
        public int Total { get; set; }
        /// <summary>Stored (including forwarded and unrouted).</summary>
        public int Stored { get; set; }
        /// <summary>Forwarded.</summary>
        public int Forwarded { get; set; }
        /// <summary>Stored as unrouted.</summary>
        public int Unrouted { get; set; }
        /// <summary>Excluded auto-generated messages.</summary>
        public int Excluded { get; set; }
        /// <summary>Rejected as too large.</summary>
        public int Rejected { get; set; }
        /// <summary>Quarantined (a virus): a notice stored, the original kept at the source's Quarantine folder.</summary>
        public int Quarantined { get; set; }
        /// <summary>Left at the source until a scanner answers (not failed).</summary>
        public int Deferred { get; set; }
        /// <summary>Failed (left at the source).</summary>
        public int Failed { get; set; }
        /// <summary>Messages set aside in the source's DeadLetter place when the run started, waiting for an administrator.</summary>
        public int SetAside { get; set; }
        /// <summary>Gone from the source while this run handled them (moved by another host or a person).</summary>
        public int Gone { get; set; }
        /// <summary>True when -WhatIf: nothing was changed.</summary>
        public bool WhatIf { get; set; }
        /// <summary>Where the journal of this run is.</summary>
        public string JournalPath { get; set; }
        /// <summary>The lease of the source: held by this host for the run, or (see <see cref="LeaseHeldElsewhere"/>) by the host that has it; null when the source needs none.</summary>
        public Leases.LeaseStatus Lease { get; set; }
        /// <summary>True when another host holds the source's lease (with shards: every unit's), so this run did nothing.</summary>
        public bool LeaseHeldElsewhere { get; set; }
        /// <summary>With shards (coordination.shards): the lease of every unit as this run found it, taken by this host or held by another; null without shards.</summary>
        public List<Leases.LeaseStatus> Units { get; set; }

        /// <summary>Adds the totals of one unit's run (a shard) to these.</summary>
        internal void Add(ProcessingSummary part)
        {
            Total += part.Total; Stored += part.Stored; Forwarded += part.Forwarded; Unrouted += part.Unrouted; Excluded += part.Excluded;
            Rejected += part.Rejected; Quarantined += part.Quarantined; Deferred += part.Deferred; Failed += part.Failed; Gone += part.Gone;
            SetAside = Math.Max(SetAside, part.SetAside); // one DeadLetter place for all units, counted by each
            JournalPath = JournalPath ?? part.JournalPath;
        }

        /// <summary>Adds one message's result to the totals.</summary>
        internal void Count(ProcessingResult result)
        {
            Total++;
            if (result.Outcome == ReplyOutcome.Failed) { Failed++; return; }
            if (result.Outcome == ReplyOutcome.Deferred) { Deferred++; if (result.DestinationUid == null) return; }
            if (result.Outcome == ReplyOutcome.Gone) { Gone++; return; }
            switch (result.Disposition)
            {
                case ReplyDisposition.Store: Stored++; break;
                case ReplyDisposition.ForwardAndStore: Stored++; Forwarded++; break;
                case ReplyDisposition.StoreUnrouted: Stored++; Unrouted++; break;
                case ReplyDisposition.Exclude: Excluded++; break;
                case ReplyDisposition.Reject: Rejected++; break;
                case ReplyDisposition.Quarantine: Quarantined++; break;
            }
        }

        /// <inheritdoc />
        public override string ToString() => WhatIf
            ? $"ReplyAdmin run {RunId} (WhatIf, nothing changed): {Total} messages: {Stored} to store ({Forwarded} to forward, {Unrouted} unrouted), {Excluded} to exclude, {Rejected} to reject{Scanned(true)} in {Duration.TotalSeconds:0.0} s."
            : $"ReplyAdmin run {RunId}: {Total} messages: {Stored} stored ({Forwarded} forwarded, {Unrouted} unrouted), {Excluded} excluded, {Rejected} rejected{Scanned(false)}, {Failed} failed in {Duration.TotalSeconds:0.0} s." + (SetAside > 0 ? $" {SetAside} set aside in DeadLetter." : "");

        // Only runs that scan have quarantined or deferred messages; the line of a run without scanners stays as it was.
        private string Scanned(bool whatIf) =>
            (Quarantined > 0 ? $", {Quarantined} {(whatIf ? "to quarantine" : "quarantined")}" : "") + (Deferred > 0 ? $", {Deferred} deferred" : "");
    }
}

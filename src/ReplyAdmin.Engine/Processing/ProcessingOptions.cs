using System;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>Options of one processing run.</summary>
    public sealed class ProcessingOptions
    {
        /// <summary>Decide and report only; change nothing on any server or file.</summary>
        public bool WhatIf { get; set; }

        /// <summary>Handle at most this many messages (oldest first); null for all.</summary>
        public int? MaxMessages { get; set; }

        /// <summary>The configured maximum message size; the server's APPENDLIMIT wins where smaller.</summary>
        public long MaxMessageSize { get; set; } = ReplyMailboxSettings.DefaultMaxMessageSize;

        /// <summary>
        /// After this many runs failed on a message permanently (relay 5xx, server refused the message, unexpected
        /// error), it is moved to the dead-letter place with the reason instead of being retried forever; 0 never.
        /// Transient failures (connections, 4xx, quota, timeouts) are not counted.
        /// </summary>
        public int MaxAttempts { get; set; } = 5;

        /// <summary>
        /// Messages handled together: headers fetched in one round trip, claimed, stored (one MULTIAPPEND), marked
        /// and acknowledged with one command each. A batch also ends at 8 MB. Results are reported and journaled per batch.
        /// </summary>
        public const int BatchSize = 50;

        /// <summary>
        /// How many batches are handled at once, each on IMAP connections of its own (so at most this many connections
        /// to each server). While one batch's messages are read and classified, others are on the wire, so the client
        /// and the server both stay busy (on two cores 3 was faster than 2). 1 handles the messages strictly in order.
        /// </summary>
        public int ThrottleLimit
        {
            get => _throttleLimit;
            set => _throttleLimit = value >= 1 && value <= MaxThrottleLimit ? value
                : throw new ArgumentOutOfRangeException(nameof(value), value, $"ThrottleLimit is 1 to {MaxThrottleLimit}.");
        }

        private int _throttleLimit = DefaultThrottleLimit;

        /// <summary>The default of <see cref="ThrottleLimit"/>.</summary>
        public const int DefaultThrottleLimit = 3;

        /// <summary>The largest <see cref="ThrottleLimit"/>: recovery after a crash looks among the copies that many batches can hold.</summary>
        public const int MaxThrottleLimit = 8;

        /// <summary>Identifies the run in results and the journal.</summary>
        public string RunId { get; set; } = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'") + "-" + Guid.NewGuid().ToString("N").Substring(0, 6);
    }
}

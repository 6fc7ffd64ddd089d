using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// A host may let socket completions run on the socket engine's own threads instead of handing each one to the thread
    /// pool (<see cref="InlineCompletionsVariable"/>; the runner sets it). Code after an await can then run on such a
    /// thread, and a synchronous wait for the network there never ends, since that thread is the one to deliver it.
    /// Closing a connection waits synchronously (IMAP LOGOUT, SMTP QUIT, a lease's release): leave first.
    /// </summary>
    public static class SocketThreads
    {
        /// <summary>The .NET setting (an environment variable, read when the first socket is made) for inline completions.</summary>
        public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

        /// <summary>Continues on a thread-pool thread, where a synchronous wait for the network is safe.</summary>
        internal static YieldAwaitable LeaveAsync() => Task.Yield();
    }
}

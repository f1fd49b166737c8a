export function Brand({ small = false }: { small?: boolean }) {
  return (
    <div className={small ? 'brand brand-small' : 'brand'}>
      <svg aria-hidden="true" viewBox="0 0 64 64" className="brand-mark">
        <rect width="64" height="64" rx="14" />
        <path d="M16 20h32a4 4 0 0 1 4 4v14a4 4 0 0 1-4 4H30l-9 8v-8h-5a4 4 0 0 1-4-4V24a4 4 0 0 1 4-4z" />
      </svg>
      <span className="brand-name">Parley</span>
    </div>
  );
}

/* SPDX-License-Identifier: MIT */
/* The strace tokeniser without Python around it, for profiling (perf,
 * callgrind) and for checking that an optimisation keeps the output:
 *
 *   PYTHONPATH=src python benchmarks/tokdriver/dump_tables.py TRACE > /tmp/tables.txt
 *   gcc -O3 -g -std=c11 -Icsrc -o /tmp/tokdriver benchmarks/tokdriver/tokdriver.c csrc/[a-z]*.c
 *   /tmp/tokdriver /tmp/tables.txt TRACE 10      # best of 10 passes, MB/s
 *   /tmp/tokdriver /tmp/tables.txt TRACE 3 hash  # also hash every event, note and statistic
 *
 * It feeds 1 MiB blocks of whole lines, as trace.io.blocks cuts them. The
 * hash (FNV-1a over each event's fields and texts, the notes, the counts and
 * the per-syscall statistics) must not change when the scanner changes. */
#define _POSIX_C_SOURCE 199309L

#include "tokenise.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static uint64_t H = 1469598103934665603ULL;
static void mix(const void *p, size_t n){const unsigned char*s=p;for(size_t i=0;i<n;i++){H^=s[i];H*=1099511628211ULL;}}
static void hev(const ss_tok *t, int64_t n){
  const ss_event *e = ss_tok_events(t);
  for (int64_t k=0;k<n;k++){const ss_event*x=&e[k];
    mix(&x->line,4);mix(&x->file_id,2);mix(&x->kind,1);mix(&x->rec,1);mix(&x->flags,4);mix(&x->pid,4);mix(&x->tid,4);
    mix(&x->nr,4);mix(&x->err,4);mix(&x->ret,8);
    if (x->flags & SS_EVF_HAS_TS) mix(&x->ts,8);
    if (x->flags & SS_EVF_HAS_DUR) mix(&x->dur,8);
    mix(&x->name_len,4);mix(x->name,x->name_len);mix(&x->args_len,4);mix(x->args,x->args_len);
    mix(&x->errname_len,4);mix(x->errname,x->errname_len);mix(&x->abi,4);}
  uint32_t nn=ss_tok_nnotes(t);const ss_note*no=ss_tok_notes(t);
  for(uint32_t k=0;k<nn;k++){mix(&no[k].line,4);mix(&no[k].kind,2);mix(&no[k].reason,4);mix(&no[k].len,4);mix(no[k].text,no[k].len);}
}
static double now(void){struct timespec ts;clock_gettime(CLOCK_MONOTONIC,&ts);return ts.tv_sec+ts.tv_nsec*1e-9;}
int main(int argc,char**argv){
  const char*tabf=argv[1];const char*trf=argv[2];int rounds=argc>3?atoi(argv[3]):5;
  FILE*f=fopen(trf,"rb");fseek(f,0,SEEK_END);long len=ftell(f);fseek(f,0,SEEK_SET);
  char*data=malloc(len);fread(data,1,len,f);fclose(f);
  double best=1e9; uint64_t h0=0;
  for(int r=0;r<rounds;r++){
    ss_tok*t=ss_tok_new();
    FILE*tf=fopen(tabf,"r");char line[512];
    while(fgets(line,sizeof line,tf)){int a,b,c;char nm[256];
      if(line[0]=='M'){sscanf(line+2,"%d %d %d",&a,&b,&c);ss_tok_set_modes(t,a,b,c);}
      else{sscanf(line+2,"%d %d %255s %d",&a,&b,nm,&c);ss_tok_add_name(t,a,b,nm,strlen(nm),c);}}
    fclose(tf);
    H=1469598103934665603ULL;
    double t0=now(); long i=0; int first=1; double hashtime=0;
    while(i<len){long j; if(i+(1<<20)>=len) j=len; else {j=i+(1<<20); while(j>i&&data[j-1]!='\n') j--; if(j<=i) j=len;}
      int64_t n=ss_tok_feed(t,data+i,j-i,0,first?1:0,0); first=0;
      if(argc>4){double h1=now();hev(t,n);hashtime+=now()-h1;}
      i=j;}
    int64_t n=ss_tok_finish(t); if(argc>4) hev(t,n);
    ss_tok_counts cc; ss_tok_get_counts(t,&cc); mix(&cc,sizeof cc);
    for(uint32_t k=0;k<ss_tok_nsyscalls(t);k++){const char*nm;uint32_t l;uint64_t ca,er;ss_tok_syscall_stat(t,k,&nm,&l,&ca,&er);mix(nm,l);mix(&ca,8);mix(&er,8);}
    double el=now()-t0-hashtime; if(el<best)best=el; h0=H;
    ss_tok_free(t);
  }
  printf("%.0f MB/s best (%.2f ms) hash %016llx\n", len/1e6/best, best*1e3, (unsigned long long)h0);
}
